#!/usr/bin/env python3
# A smoke drive of the real app (not the Rust E2E suite, which is still to be written): tauri-driver on
# :4444 under Xvfb, a demo office at $OFFICE (default http://127.0.0.1:18080), the app binary as argv[1],
# screenshots into argv[2]. Sign in as zhangwei, list today's jobs, open a home repair visit, confirm
# the first step, and check in the outbox that the office acknowledged it.
# Run: HEATCREW_DB=/tmp/x.db xvfb-run -a -s "-screen 0 400x820x24" bash -c \
#   'tauri-driver --port 4444 & sleep 2; python3 tests/app_smoke.py target/debug/heatcrew-app docs/screenshots'
# Element commands of WebKitWebDriver were unreliable here (the driver connection dropped), so it
# types and clicks through execute/sync.
import os
import json, sys, time, base64, urllib.request
D="http://127.0.0.1:4444"
def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(D+path, data=data, method=method, headers={"Content-Type":"application/json"})
    with urllib.request.urlopen(r, timeout=60) as f: return json.loads(f.read())["value"]
app=sys.argv[1]; out=sys.argv[2]
sid = req("POST","/session",{"capabilities":{"alwaysMatch":{"tauri:options":{"application":app}}}})["sessionId"]
P=f"/session/{sid}"
def js(code, *args):
    time.sleep(0.3); return req("POST",P+"/execute/sync",{"script":code,"args":list(args)})
def shot(name):
    png=base64.b64decode(req("GET",P+"/screenshot")); open(f"{out}/{name}.png","wb").write(png); print("shot",name,len(png))
def wait(tid, t=30):
    end=time.time()+t
    while not js("return !!document.querySelector(arguments[0])", f'[data-testid="{tid}"]'):
        if time.time()>end: shot("fail-"+tid); raise SystemExit("timeout waiting for "+tid)
        time.sleep(0.2)
def typ(tid, text):
    wait(tid); js("const e=document.querySelector(arguments[0]); e.value=arguments[1]; e.dispatchEvent(new Event('input',{bubbles:true}))", f'[data-testid="{tid}"]', text)
def click(tid, extra=""):
    wait(tid); js("document.querySelector(arguments[0]).click()", f'[data-testid="{tid}"]{extra}')
t0=time.time()
wait("login-office"); print("login screen after", round(time.time()-t0,2)); shot("01-sign-in")
typ("login-office",os.environ.get("OFFICE", "http://127.0.0.1:18080")); typ("login-user","zhangwei"); typ("login-password","heatcrew-demo")
click("login-submit")
wait("job-item"); time.sleep(1.5); shot("02-today")
print("jobs", js("return [...document.querySelectorAll('[data-testid=job-item]')].map(e=>e.dataset.kind)"))
click("job-item",'[data-kind="home_repair"] a'); wait("step-title"); time.sleep(1); shot("03-visit-step")
print("step", js("return document.querySelector('[data-testid=step-title]').textContent + ' | ' + (document.querySelector('[data-testid=step-phrase]')||{}).textContent"))
click("step-confirm"); time.sleep(1.5)
print("step2", js("return document.querySelector('[data-testid=step-title]').textContent"))
click("sync-status"); time.sleep(1.5); shot("05-outbox")
print("outbox", js("return [...document.querySelectorAll('[data-testid=outbox-item]')].map(e=>e.dataset.state)"))
print("step2", js("return document.querySelector('[data-testid=step-title]').textContent"))
req("DELETE",P)
