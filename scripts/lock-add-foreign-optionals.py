#!/usr/bin/env python3
# The npm registry mirror here 404s for other platforms' optional packages (rollup's), so npm leaves them
# out of package-lock.json and `npm ci` then refuses the lock. Run this after regenerating the lock:
# it records each missing optional package with its os/cpu so npm ci skips it on this platform.
import json,re
p='package-lock.json'
d=json.load(open(p))
pk=d['packages']
added=0
for name,e in list(pk.items()):
    for dep,ver in (e.get('optionalDependencies') or {}).items():
        key='node_modules/'+dep
        if key in pk: continue
        m=re.search(r'-(android|darwin|freebsd|linux|openbsd|openharmony|win32|sunos|netbsd|aix|cygwin)-([a-z0-9]+)(?:-(gnu|musl|gnueabihf|musleabihf|msvc|eabi))?$',dep)
        if not m: print('skip',dep); continue
        os_,cpu,lib=m.group(1),m.group(2),m.group(3)
        cpu={'arm':'arm','ia32':'ia32'}.get(cpu,cpu)
        if dep.endswith('arm-gnueabihf') or dep.endswith('arm-musleabihf') or dep.endswith('arm-eabi'): cpu='arm'
        ent={'version':ver,'cpu':[cpu],'dev':True,'license':'MIT','optional':True,'os':[os_]}
        if lib in ('gnu','gnueabihf') and os_=='linux': ent['libc']=['glibc']
        if lib in ('musl','musleabihf'): ent['libc']=['musl']
        pk[key]=ent; added+=1
d['packages']=dict(sorted(pk.items(),key=lambda kv:(kv[0]!='',kv[0])))
json.dump(d,open(p,'w'),indent=2); open(p,'a').write('\n')
print('added',added)
