import random, subprocess, os, sys, concurrent.futures as cf
base = open('/work/wt-review/connector.yaml').read()
targeted = [
 "version: 1\nname: a\nplatform: intercom\nworkspace: {id: abc12xyz}\nauth: {mode: oauth}\npermissions: {people: [read]}\n",
 base.replace("abc12xyz", "!!binary aGVsbG8="), base.replace("abc12xyz","&a x\nx: *a"), base + "\n---\n" + base,
 base.replace("token_env: INTERCOM_ACCESS_TOKEN", "token_env: PATH"), base.replace("token_env: INTERCOM_ACCESS_TOKEN", "token_env: ''"),
 base.replace("token_env: INTERCOM_ACCESS_TOKEN", "token_env: [a]"), base.replace('"2.15"', "2.15"), base.replace('"2.15"', '"99.99"'),
 base.replace('"2.15"', '"2.15\\n::error::x"'), base.replace("Acme Support", '"Acme\\ud800"'), base.replace("Acme Support", '"\\u202eAcme"'),
 base.replace("version: 1", "version: 1e999"), base.replace("version: 1", "version: 99999999999999999999999999"), base.replace("version: 1", "version: .nan"),
 base.replace("people: [read, write]", "people: [read, read]"), base.replace("people: [read, write]", "people: {read: 1}"),
 base.replace("people: [read, write]", "? [a]\n  : [read]"), base.replace("people:", "<<: {x: 1}\n  people:"),
 "a: &a [*a]\n", "x: " + "[" * 5000 + "]" * 5000, "\ufeff" + base, base.encode('utf-16').decode('latin-1'), "\x00" * 10, "key: \"\\ud800\"\n" + base,
 base.replace("name: helpdesk-migration", "name: " + "x" * 100000), base.replace("region: us", "region: US"), base.replace("region: us", "region: \"u\\u0073\""),
 base.replace("auth:\n", "auth: !!python/object/apply:os.system ['echo pwned']\n  x:\n"),
 "lol: &a [\"x\",\"x\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e]\n" + base,
]
rnd = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
chars = list(":-[]{}&*!|>'\"%@`#,?\n\t \\\x85\u2028\ud800") + ["\u202e", "\x1b", "\x00"]
def mutate():
    s = list(base)
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(s)); op = rnd.random()
        if op < .4: s[i] = rnd.choice(chars)
        elif op < .7: del s[i]
        else: s.insert(i, rnd.choice(chars))
    return "".join(s)
cases = targeted + [mutate() for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 150)]
env = dict(os.environ, INTERCOM_ACCESS_TOKEN="dG9rOkAbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
def run(i):
    p = f"/tmp/rv/fz/c{i}.yaml"
    with open(p, "w", encoding="utf-8", errors="surrogatepass") as f: f.write(cases[i])
    out = []
    for cmd in (["lint", p, "--format", "sarif"], ["lint", p], ["validate", p, "--api-url", "http://127.0.0.1:18501", "--timeout", "3", "--report", f"json=/tmp/rv/fz/c{i}.json", "--report", f"sarif=/tmp/rv/fz/c{i}.sarif", "--report", f"junit=/tmp/rv/fz/c{i}.xml", "--report", f"markdown=/tmp/rv/fz/c{i}.md", "--report", f"github=/tmp/rv/fz/c{i}.gh"]):
        try:
            r = subprocess.run(["/work/wt-review/.venv/bin/python", "-m", "validator", *cmd], capture_output=True, timeout=30, env=env)
            if r.returncode not in (0,1,2,3,4) or b"Traceback" in r.stderr + r.stdout:
                out.append(f"case {i} {cmd[0]} {cmd[-1] if cmd[0]=='lint' else ''} rc={r.returncode} {r.stderr[-300:]!r}")
        except subprocess.TimeoutExpired:
            out.append(f"case {i} {cmd[0]} TIMEOUT")
    return out
os.makedirs("/tmp/rv/fz", exist_ok=True)
with cf.ThreadPoolExecutor(12) as ex:
    for res in ex.map(run, range(len(cases))):
        for line in res: print(line, flush=True)
print("done", len(cases))
