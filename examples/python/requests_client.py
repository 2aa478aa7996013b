"""Many concurrent single-text requests to TEI's /embed through autobatch, with `requests`.

Each thread sends its own small request, as independent clients would; autobatch merges the
ones that arrive together into batch calls to TEI and gives each thread exactly its own answer.

    pip install -r examples/python/requirements.txt
    python examples/python/requests_client.py            # autobatch on http://localhost:3000
    AUTOBATCH_URL=http://host:3000 python examples/python/requests_client.py
"""

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

URL = os.environ.get("AUTOBATCH_URL", "http://localhost:3000")
TEXTS = [f"sentence number {i} about nothing in particular" for i in range(64)]

session = requests.Session()
# One connection per thread, so that the requests really are concurrent.
session.mount("http://", HTTPAdapter(pool_maxsize=16))


def embed(text: str) -> tuple[list[float], int]:
    response = session.post(f"{URL}/embed", json={"inputs": text}, timeout=60)
    response.raise_for_status()
    [vector] = response.json()  # TEI answers a list with one vector per input
    return vector, int(response.headers.get("x-autobatch-batch-size", "1"))


with ThreadPoolExecutor(max_workers=16) as pool:
    results = list(pool.map(embed, TEXTS))

sizes = Counter(size for _, size in results)
print(f"{len(results)} vectors of {len(results[0][0])} dimensions")
print("upstream batch sizes seen (size: requests):", dict(sorted(sizes.items())))
