#!/usr/bin/env python3
"""Copies the real OSV records and KEV entries the vulndb tests use out of
../shared/data (see README.md). Records are written byte for byte; the KEV slice
keeps the catalog's structure, with "count" set to the entries kept.

Run from vulndb/testdata: python3 select_records.py /work/shared/data
"""
import json, os, sys, zipfile, collections

data = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
MAX = 40000  # bytes per record: skip huge AlmaLinux errata

def pick(eco, ids=(), packages=(), per_package=0, multi=0, withdrawn=()):
    z = zipfile.ZipFile(os.path.join(data, "osv", eco, "all.zip"))
    recs = {}
    for n in sorted(z.namelist()):
        b = z.read(n)
        recs[json.loads(b)["id"]] = (n, b)
    out = dict()
    for i in list(ids) + list(withdrawn):
        out[i] = recs[i]
    for p in packages:
        k = 0
        for i, (n, b) in recs.items():
            r = json.loads(b)
            if k < per_package and len(b) < MAX and any(a["package"]["name"] == p for a in r["affected"]):
                out[i] = recs[i]; k += 1
    k = 0
    for i, (n, b) in recs.items():
        r = json.loads(b)
        if k < multi and len(b) < MAX and len({(a["package"]["ecosystem"], a["package"]["name"]) for a in r["affected"]}) > 1 \
                and len({a["package"]["ecosystem"] for a in r["affected"]}) >= (2 if eco == "AlmaLinux" else 1):
            out[i] = recs[i]; k += 1
    d = os.path.join("osv", eco)
    os.makedirs(d, exist_ok=True)
    for i, (n, b) in sorted(out.items()):
        with open(os.path.join(d, n), "wb") as f:
            f.write(b)
    print(eco, len(out))
    return out

pick("Go",
     ids=["GO-2022-0535", "GO-2023-2102", "GO-2023-2153", "GO-2025-3459", "GO-2022-0969", "GO-2023-1840"],
     withdrawn=["GO-2022-0617", "GO-2024-2730", "GO-2024-2442", "GO-2025-3408"],
     packages=["github.com/gin-gonic/gin", "golang.org/x/crypto", "golang.org/x/net"], per_package=8, multi=8)
pick("PyPI",
     ids=["PYSEC-2020-102", "PYSEC-2020-103", "PYSEC-2020-104", "PYSEC-2020-14", "PYSEC-2020-18", "PYSEC-2022-236",
          "PYSEC-2023-174", "PYSEC-2023-175", "PYSEC-2023-181", "PYSEC-2023-182", "PYSEC-2023-183", "PYSEC-2023-184",
          "PYSEC-2020-341", "PYSEC-2023-74"],
     withdrawn=["PYSEC-2019-144", "PYSEC-2021-13", "PYSEC-2023-73"],
     packages=["pillow", "django"], per_package=8)
pick("crates.io",
     ids=["RUSTSEC-2023-0060", "RUSTSEC-2023-0061", "RUSTSEC-2021-0078"],
     withdrawn=["RUSTSEC-2019-0031", "RUSTSEC-2020-0053", "RUSTSEC-2021-0135", "RUSTSEC-2022-0044", "RUSTSEC-2025-0007"],
     packages=["hyper", "tokio", "openssl"], per_package=10)
pick("AlmaLinux",
     ids=["ALSA-2024:0256", "ALSA-2019:3735", "ALSA-2019:3736", "ALSA-2022:0267", "ALSA-2022:1546", "ALBA-2019:0973"],
     packages=["memcached", "icu", "kbd"], per_package=3, multi=5)

kev = json.load(open(os.path.join(data, "kev", "known_exploited_vulnerabilities.json")))
want = {"CVE-2020-0601", "CVE-2023-44487", "CVE-2024-3400", "CVE-2025-24016", "CVE-2020-11651", "CVE-2020-11652",
        "CVE-2020-16846", "CVE-2020-11978", "CVE-2020-13927", "CVE-2022-33891", "CVE-2023-4863", "CVE-2019-11043",
        "CVE-2020-1472", "CVE-2021-4034", "CVE-2021-40438"}
keep = []
known = 0
for v in kev["vulnerabilities"]:
    if v["cveID"] in want:
        keep.append(v)
    elif len(keep) < 30 and (v["knownRansomwareCampaignUse"] == "Known" and known < 6 or len(keep) < 8):
        keep.append(v)
        known += v["knownRansomwareCampaignUse"] == "Known"
kev["vulnerabilities"] = keep
kev["count"] = len(keep)
os.makedirs("kev", exist_ok=True)
with open(os.path.join("kev", "known_exploited_vulnerabilities.json"), "w") as f:
    json.dump(kev, f, indent=4)
print("kev", len(keep), collections.Counter(v["knownRansomwareCampaignUse"] for v in keep))
