import re, sys, os, hashlib
out = sys.argv[1]
def cunescape(s):
    return bytes(s, 'latin1').decode('unicode_escape').encode('latin1')
seeds = []
src = open('tests/unit/test_conf.c').read()
src = re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
# runs of adjacent C string literals
for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', src):
    lits = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
    text = b''.join(cunescape(l) for l in lits)
    if b':' in text and (b'\n' in text or b'{' in text):
        seeds.append(text)
# man page .nf/.fi blocks
man = open('man/xlb.conf.5').read().split('\n')
blk = None
for line in man:
    if line.startswith('.nf'):
        blk = []
    elif line.startswith('.fi') and blk is not None:
        t = '\n'.join(blk) + '\n'
        t = t.replace('\\-', '-').replace('\\(dq', '"').replace('\\e', '\\').replace('\\&', '').replace('\\(aq', "'")
        seeds.append(t.encode())
        blk = None
    elif blk is not None and not line.startswith('.'):
        blk.append(line)
for f in sys.argv[2:]:
    seeds.append(open(f, 'rb').read())
os.makedirs(out, exist_ok=True)
for s in seeds:
    name = hashlib.sha1(s).hexdigest()[:16]
    open(os.path.join(out, name), 'wb').write(s)
print(len(seeds))
