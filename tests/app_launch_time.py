#!/usr/bin/env python3
# Launch to interactive job list, 5 runs, median: tauri-driver on :4444 under Xvfb, argv[1] = app binary,
# HEATCREW_DB = a database that is already signed in (e.g. after tests/app_smoke.py).
import json, sys, time, urllib.request, statistics
D="http://127.0.0.1:4444"
def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(D+path, data=data, method=method, headers={"Content-Type":"application/json"})
    with urllib.request.urlopen(r, timeout=60) as f: return json.loads(f.read())["value"]
times=[]
for i in range(5):
    t0=time.time()
    sid=req("POST","/session",{"capabilities":{"alwaysMatch":{"tauri:options":{"application":sys.argv[1]}}}})["sessionId"]
    P=f"/session/{sid}"
    while not req("POST",P+"/execute/sync",{"script":"return !!document.querySelector('[data-testid=job-item]')","args":[]}):
        time.sleep(0.05)
    times.append(time.time()-t0); req("DELETE",P); time.sleep(1)
print("launch to job list (s):", [round(t,2) for t in times], "median", round(statistics.median(times),2))
