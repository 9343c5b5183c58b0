"""How fast the privacy machinery runs: the purge's lake passes, the artifact scrub, token checks.

    python -m recs_tools.scale.privacy [--records 1000000] [--users 200000] [--tokens 2000]
                                       [--lake-formats ndjson,parquet]

Everything runs in memory on this machine (no S3 or DynamoDB: the figures are the CPU cost of
the purge and of token checks; a Lambda adds the object transfers, which `read_window`-style
prefetching overlaps). Seeded; prints one JSON document.

- **lake**: ``--records`` lake records in the demo shop's shape (about 260 bytes each), 5,000 per
  object (Firehose's buffering makes objects of this order), 20% of users also browsing
  anonymously, 10 of them erased; both purge passes, once over gzip NDJSON objects (``lake``) and
  once over the same records as Parquet objects, Snappy, as Firehose's record format conversion
  writes them (``lakeParquet``; ``--lake-formats`` picks either or both).
- **artifacts**: one version of ``--users`` visitors (ALS, 32 factors, ``model/ids.json``,
  ``model/model.npz``, active users), 10 erased; the version's scrub.
- **tokens**: RS256 (2,048-bit) bearer tokens checked by `recs.auth.tokens.JwtVerifier` with the
  keys cached (a warm container), and the cold import of PyJWT and ``cryptography``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from typing import Any

import numpy as np

RECORDS_PER_OBJECT = 5_000
ERASED_USERS = 10
SEED = 7


#: The lake's object formats the purge is measured on.
LAKE_FORMATS = ("ndjson", "parquet")


def _lake(records: int, rng: np.random.Generator) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The lake's records per object key, and the users to erase."""
    from recs.pseudonyms import Pseudonymizer

    pseudonyms = Pseudonymizer(b"scale-measurement-key-0123456789")
    n_users = max(ERASED_USERS * 10, records // 40)
    users = [pseudonyms.user(f"user_{i:07d}") for i in range(n_users)]
    anons = [pseudonyms.anon(f"anon_{i:07d}") if i % 5 == 0 else None for i in range(n_users)]
    objects: dict[str, list[dict[str, Any]]] = {}
    owner = rng.integers(0, n_users, size=records)
    logged_in = rng.random(records) < 0.8
    for start in range(0, records, RECORDS_PER_OBJECT):
        rows = []
        for i in range(start, min(records, start + RECORDS_PER_OBJECT)):
            u = int(owner[i])
            record: dict[str, Any] = {
                "eventId": f"{i:08x}-0000-4000-8000-000000000000",
                "eventType": "view",
                "timestamp": "2026-11-20T10:00:00Z",
                "sessionId": pseudonyms.session(f"s{u}-{i // 20}"),
                "productId": f"sku_{i % 5000:05d}",
                "category": "electronics",
                "context": "product-page",
                "receivedAt": "2026-11-20T10:00:01Z",
                "schemaVersion": 1,
            }
            if logged_in[i] or anons[u] is None:
                record["userId"] = users[u]
            if anons[u] is not None:
                record["anonId"] = anons[u]
            rows.append(record)
        objects[f"events/2026/11/20/10/part-{start // RECORDS_PER_OBJECT:06d}"] = rows
    erased = [users[int(i)] for i in rng.choice(n_users, size=ERASED_USERS, replace=False)]
    return objects, erased


def _encoded(objects: dict[str, list[dict[str, Any]]], object_format: str) -> dict[str, bytes]:
    """The records as gzip NDJSON objects (Firehose before its conversion) or as Parquet."""
    if object_format == "parquet":
        from recs import lake_format as parquet

        return {key: parquet.encode_records(rows) for key, rows in objects.items()}
    return {
        f"{key}.gz": gzip.compress(
            b"".join(json.dumps(row, separators=(",", ":")).encode() + b"\n" for row in rows),
            compresslevel=6,
        )
        for key, rows in objects.items()
    }


def measure_lake(records: int, object_format: str = "ndjson") -> dict[str, Any]:
    from recs.privacy.lake_purge import LakePurge
    from recs.privacy.visitors import ErasedVisitors
    from recs.pseudonyms import Pseudonymizer
    from recs_tools.memory_objects import MemoryObjects

    rows, erased = _lake(records, np.random.default_rng(SEED))
    objects = _encoded(rows, object_format)
    del rows
    compressed = sum(len(v) for v in objects.values())
    pseudonyms = Pseudonymizer(b"scale-measurement-key-0123456789")
    visitors = ErasedVisitors({pseudonyms.tombstone(p) for p in erased}, pseudonyms.tombstone)
    export = _export_scan(objects, erased[0], pseudonyms, records)
    purge = LakePurge(MemoryObjects(objects), "events/", visitors)
    keys = purge.keys()
    started = time.perf_counter()
    links = purge.find_links(keys)
    for anonymous in links:
        visitors.add(visitors.tombstone(anonymous))
    first = time.perf_counter() - started
    started = time.perf_counter()
    outcome = purge.rewrite(keys)
    second = time.perf_counter() - started
    return {
        "format": "gzip NDJSON" if object_format == "ndjson" else "Parquet (Snappy)",
        "records": records,
        "objects": len(keys),
        "compressedMiB": round(compressed / 2**20, 1),
        "linksPassSeconds": round(first, 2),
        "rewritePassSeconds": round(second, 2),
        "purgeRecordsPerSecond": round(records / (first + second)),
        "recordsRemoved": outcome.records_removed,
        "objectsRewritten": outcome.objects_rewritten,
        "linkedAnonymousIds": len(links),
        **export,
    }


def _export_scan(objects: dict[str, bytes], user: str, pseudonyms: Any, records: int) -> dict[str, Any]:
    """The export job's read of the lake for one user (`recs.privacy.export_job.user_lake_records`):
    its linked anonymous ids (a pass over every object), then its records (a second pass), nothing
    rewritten; timed before the purge changes the objects."""
    from recs.privacy.export_job import user_lake_records
    from recs_tools.memory_objects import MemoryObjects

    started = time.perf_counter()
    _, found_records = user_lake_records(MemoryObjects(objects), "events/", user, pseudonyms)
    found = sum(1 for _ in found_records)
    seconds = time.perf_counter() - started
    return {
        "exportScanSeconds": round(seconds, 2),
        "exportRecordsPerSecond": round(records / seconds),
        "exportRecordsFound": found,
    }


def measure_artifacts(users: int) -> dict[str, Any]:
    import scipy.sparse as sp

    from recs.engine import AlternatingLeastSquares
    from recs.pseudonyms import Pseudonymizer
    from recs.training.fit.fitting import FittedModel
    from recs.training.privacy.artifact_scrub import ArtifactScrubber
    from recs.training.publish import artifacts as paths
    from recs.training.publish.artifacts import VersionArtifacts

    class Memory(dict[str, bytes]):
        def get(self, key: str, default: Any = None) -> bytes:
            return self[key]

        def put(self, key: str, data: bytes, content_type: str = "") -> None:
            self[key] = data

        def list_keys(self, prefix: str) -> Any:
            return iter(sorted(k for k in self if k.startswith(prefix)))

        def delete(self, keys: Any) -> int:
            return 0

    rng = np.random.default_rng(SEED)
    pseudonyms = Pseudonymizer(b"scale-measurement-key-0123456789")
    ids = [pseudonyms.user(f"user_{i:07d}") for i in range(users)]
    model = AlternatingLeastSquares(factors=32, iterations=0, random_state=SEED)
    model.fit(sp.random(users, 1000, density=0.002, format="csr", dtype=np.float32, random_state=SEED))
    store = Memory()
    version = VersionArtifacts(store, "v-scale")
    version.put_bytes(paths.MODEL, FittedModel("als", model).to_bytes())
    version.put_json(paths.MODEL_IDS, {"users": ids, "items": [f"sku_{i}" for i in range(1000)]})
    version.put_json(paths.ACTIVE_USERS, ids[:1000])
    erased = {ids[int(i)] for i in rng.choice(users, size=ERASED_USERS, replace=False)}
    tombstones = {pseudonyms.tombstone(p) for p in erased}
    started = time.perf_counter()
    outcome = ArtifactScrubber(store).scrub_version(
        "v-scale", lambda p: pseudonyms.tombstone(p) in tombstones
    )
    return {
        "visitors": users,
        "modelMiB": round(len(store[version.key(paths.MODEL)]) / 2**20, 1),
        "scrubSeconds": round(time.perf_counter() - started, 2),
        "objectsRewritten": outcome.objects_rewritten,
    }


def measure_tokens(count: int) -> dict[str, Any]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from recs.auth.tokens import JwtVerifier, OidcSigningKeys

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = {"keys": [{**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k", "use": "sig"}]}
    issuer = "https://issuer.example"

    def fetch(url: str, _timeout: float) -> Any:
        return {"issuer": issuer, "jwks_uri": issuer + "/keys"} if "openid" in url else jwks

    verifier = JwtVerifier(OidcSigningKeys(issuer, fetch=fetch), audience="app")
    now = int(time.time())
    tokens = [
        jwt.encode(
            {"iss": issuer, "aud": "app", "sub": f"user_{i}", "exp": now + 600}, key, "RS256", {"kid": "k"}
        )
        for i in range(count)
    ]
    verifier.verify(tokens[0])  # keys fetched once, as on a container's first request
    started = time.perf_counter()
    for token in tokens:
        verifier.verify(token)
    per_token = (time.perf_counter() - started) / count
    imports = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import recs.auth.tokens"], check=True)
        with_jwt = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import recs.auth.policy"], check=True)
        imports.append(with_jwt - (time.perf_counter() - started))
    return {
        "tokens": count,
        "verifyMicroseconds": round(per_token * 1e6, 1),
        "coldImportMilliseconds": round(float(np.median(imports)) * 1000, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m recs_tools.scale.privacy")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument(
        "--lake-formats",
        default=",".join(LAKE_FORMATS),
        help="the lake formats the purge is measured on, comma-separated: ndjson, parquet",
    )
    args = parser.parse_args(argv)
    formats = [name.strip() for name in args.lake_formats.split(",") if name.strip()]
    unknown = sorted(set(formats) - set(LAKE_FORMATS))
    if unknown or not formats:
        parser.error(
            f"--lake-formats: {', '.join(unknown) or 'none given'}; known: {', '.join(LAKE_FORMATS)}"
        )
    result: dict[str, Any] = {}
    if "ndjson" in formats:
        result["lake"] = measure_lake(args.records, "ndjson")
    if "parquet" in formats:
        result["lakeParquet"] = measure_lake(args.records, "parquet")
    result["artifacts"] = measure_artifacts(args.users)
    result["tokens"] = measure_tokens(args.tokens)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
