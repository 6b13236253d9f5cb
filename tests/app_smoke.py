#!/usr/bin/env python3
# A smoke drive of the real app (not the Rust E2E suite, which is still to be written): tauri-driver on
# :4444 under Xvfb, a demo office at $OFFICE (default http://127.0.0.1:18080), the app binary as argv[1],
# screenshots into argv[2]. Sign in as zhangwei, list today's jobs, open a home repair visit, confirm
# the first step, and check in the outbox that the office acknowledged it.
# Run: HEATCREW_DB=/tmp/x.db xvfb-run -a -s "-screen 0 400x820x24" bash -c \
#   'tauri-driver --port 4444 & sleep 2; python3 tests/app_smoke.py target/debug/heatcrew-app docs/screenshots'
# Then confirm four more steps and upload a JPEG ($PHOTOS/photo.jpg) to the photo step through the file input (WebDriver send_keys).
# Typing and clicking go through execute/sync; the file input needs the element endpoint.
# Then the rest of the visit: second photo and the texts, clean-up photo, a refused signature with
# reason and witness, a 5-star rating, the contact card; prints the visit's screen time.
# Make the photos with e.g. `convert -size 640x480 gradient:orange-blue photo.jpg` (photo2, photo3 too).
import os, json, sys, time, base64, urllib.request
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
for n in range(5):
    click("step-confirm"); time.sleep(1.2)
print("now at", js("return document.querySelector('[data-testid=step-title]').textContent"))
r=req("POST",P+"/element",{"using":"css selector","value":"[data-testid=photo-input]"}); e=list(r.values())[0]
req("POST",P+f"/element/{e}/value",{"text":os.path.join(os.environ.get("PHOTOS", "/tmp/e2e"), "photo.jpg")})
wait("photo-thumb"); time.sleep(1); shot("06-photos")
def upload(path):
    r=req("POST",P+"/element",{"using":"css selector","value":"[data-testid=photo-input]"}); e=list(r.values())[0]
    n=js("return document.querySelectorAll('[data-testid=photo-thumb]').length")
    req("POST",P+f"/element/{e}/value",{"text":path})
    end=time.time()+30
    while js("return document.querySelectorAll('[data-testid=photo-thumb]').length")<=n:
        if time.time()>end: shot("fail-upload"); raise SystemExit("upload")
        time.sleep(0.2)
def title(): return js("return document.querySelector('[data-testid=step-title]').textContent")
tv=time.time()
upload(os.path.join(os.environ.get("PHOTOS", "/tmp/e2e"), "photo2.jpg"))
typ("evidence-fault_found","散热器阀门堵塞"); typ("evidence-work_done","清洗阀门，恢复供热")
click("step-confirm"); time.sleep(1.2); print("now", title())
upload(os.path.join(os.environ.get("PHOTOS", "/tmp/e2e"), "photo3.jpg")); click("step-confirm"); time.sleep(1.2); print("now", title())
shot("07-signature")
click("signature-refuse"); time.sleep(0.5)
js("const r=[...document.querySelectorAll('input[type=radio]')].find(x=>x.value==='refused'); if(r){r.click()}")
typ("refusal-reason","客户对维修时间有异议，拒绝签字"); typ("witness-name","物业 李师傅"); typ("witness-phone","13900001111")
click("refusal-submit"); time.sleep(1.2); shot("08-refused")
click("step-confirm"); time.sleep(1.2); print("now", title())
click("rating-star",'[data-value="5"]'); typ("rating-comment","师傅很专业"); time.sleep(0.3); shot("09-rating")
click("rating-submit"); time.sleep(1); click("step-confirm"); time.sleep(1.2); print("now", title())
click("step-confirm"); time.sleep(1.5)
print("visit screen time (s)", round(time.time()-tv,1))
shot("10-done")
req("DELETE",P)
