"""The benchmarks' S3 stand-in counts every request by operation, and its seeding is not counted."""

from __future__ import annotations

from benchmarks.s3_standin import counting_moto_server
from tests.standins import moto

BUCKET = "bench-counted"


def test_requests_are_counted_by_operation_with_the_bytes_read(tmp_path):
    (tmp_path / "spotify" / "tracks").mkdir(parents=True)
    (tmp_path / "spotify" / "tracks" / "a.jsonl").write_bytes(b"seeded\n")
    with counting_moto_server() as server:
        s3 = moto.client("s3", server.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        assert server.seed(BUCKET, "zone", tmp_path) == 1
        for n in range(3):
            s3.put_object(Bucket=BUCKET, Key=f"zone/spotify/_dlt_loads/{n}.jsonl", Body=b"x" * (n + 1))
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="zone/spotify/")
        body = s3.get_object(Bucket=BUCKET, Key="zone/spotify/tracks/a.jsonl")["Body"].read()
        s3.head_object(Bucket=BUCKET, Key="zone/spotify/_dlt_loads/0.jsonl")
        s3.delete_object(Bucket=BUCKET, Key="zone/spotify/_dlt_loads/0.jsonl")
        counts = server.counts()
        server.reset()
        after_reset = server.counts()

    assert listed["KeyCount"] == 4
    assert body == b"seeded\n"
    requests = {name: tally["requests"] for name, tally in counts["operations"].items()}
    assert requests == {
        "CreateBucket": 1,
        "PutObject": 3,
        "ListObjectsV2": 1,
        "GetObject": 1,
        "HeadObject": 1,
        "DeleteObject": 1,
    }
    assert counts["operations"]["GetObject"]["bytes"] == len(b"seeded\n")
    assert counts["folders"]["ListObjectsV2"] == {f"{BUCKET}/zone/spotify/": 1}
    assert counts["folders"]["PutObject"] == {f"{BUCKET}/zone/spotify/_dlt_loads": 3}
    assert after_reset["operations"] == {}
