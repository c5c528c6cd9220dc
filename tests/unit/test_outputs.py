"""Output folders that never touch what is not theirs, tried as a hostile user would: a
claim counts only with a well-formed token, an entry belongs to a job only by its exact
name, anything else is refused and left byte for byte as it was, a takeover marker has
a claim's liveness test, and every reader reads exactly what the manifest lists."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle.errors import DataError
from lifecycle.io import claims, manifests, outputs, tables
from lifecycle.io.locations import Location, locate

TOKEN = "0123456789abcdef"
RUN = "f" * 32


def never_active(record: claims.ClaimRecord) -> bool:
    return False


def always_active(record: claims.ClaimRecord) -> bool:
    return True


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def record(token: str = TOKEN, run_id: str = RUN, pid: int = 2**22 + 7) -> claims.ClaimRecord:
    """A claim of a job on this host whose process (a pid nothing runs) is gone."""
    import socket

    return claims.ClaimRecord(token, run_id, socket.gethostname(), pid, "1")


def complete_output(folder: Path, token: str = TOKEN) -> Location:
    """A whole output of this collection: claim, one part, manifest."""
    location = locate(str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    claim = claims.Claim(location, record(token))
    (folder / claims.CLAIM).write_bytes(claim.record.to_json())
    tables.write_part(pa.table({"a": [1, 2]}), claim.part_path("00000"), location)
    manifests.complete(
        claim, manifests.Manifest(token, RUN, "in", "d", "runs:/x/model", None, None, {})
    )
    return location


def another_tools_output(folder: Path) -> None:
    """What Spark or another writer leaves: a part named by its own uuid and a marker."""
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"x": [7]}), folder / "part-00000-3c5e2b1a-uuid-c000.snappy.parquet")
    (folder / "_SUCCESS").write_bytes(b"")


def claim_text(**changes: object) -> str:
    """A claim's JSON with ``changes`` to a well-formed one."""
    fields: dict[str, object] = {
        "writer": claims.WRITER,
        "token": TOKEN,
        "run_id": RUN,
        "host": "h",
        "pid": 1,
    }
    return json.dumps({**fields, **changes})


DAMAGED_CLAIMS = {
    "empty-token": claim_text(token=""),
    "dash-token": claim_text(token="-"),
    "short-token": claim_text(token="0123"),
    "other-writer": claim_text(writer="other"),
    "no-run": claim_text(run_id=""),
    "pid-text": claim_text(pid="1"),
    "text": "not json",
    "empty": "",
}


@pytest.mark.parametrize("damaged", list(DAMAGED_CLAIMS.values()), ids=list(DAMAGED_CLAIMS))
def test_a_damaged_claim_beside_another_tools_files_is_refused_and_nothing_is_deleted(
    tmp_path: Path, damaged: str
) -> None:
    folder = tmp_path / "out"
    another_tools_output(folder)
    (folder / claims.CLAIM).write_text(damaged)
    before = snapshot(folder)
    for overwrite in (False, True):
        with pytest.raises(DataError, match=r"did not write.*nothing was deleted"):
            outputs.claim(locate(str(folder)), claims.new_record(RUN), overwrite, never_active)
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    "name",
    [
        f"part-00000-{TOKEN}-extra.parquet",  # carries the token, but not as the exact name
        f"xpart-00000-{TOKEN}.parquet",
        f"part-00000-{TOKEN}.parquet.bak",
        f"part-0000-{TOKEN}.parquet",
        f"part-00000-{TOKEN[:-1]}.parquet",
        "notes.txt",
        f"_staging-{TOKEN}x",
    ],
)
def test_a_file_whose_name_only_contains_the_token_is_not_ours(tmp_path: Path, name: str) -> None:
    location = complete_output(tmp_path / "out")
    (tmp_path / "out" / name).write_bytes(b"someone else's")
    before = snapshot(tmp_path / "out")
    with pytest.raises(DataError, match=r"did not write \("):
        outputs.claim(location, claims.new_record(RUN), True, never_active)
    assert snapshot(tmp_path / "out") == before
    with pytest.raises(DataError, match="which its manifest does not list"):
        manifests.read_output(location.uri)


def test_another_tools_output_without_a_claim_is_refused_whole(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    another_tools_output(folder)
    before = snapshot(folder)
    with pytest.raises(DataError, match="did not write"):
        outputs.claim(locate(str(folder)), claims.new_record(RUN), True, never_active)
    assert snapshot(folder) == before
    assert not manifests.is_output(locate(str(folder)))  # a plain table to a reader


def test_a_complete_output_is_replaced_only_under_overwrite(tmp_path: Path) -> None:
    location = complete_output(tmp_path / "out")
    with pytest.raises(DataError, match="already exists"):
        outputs.claim(location, claims.new_record(RUN), False, never_active)
    new = claims.new_record(RUN)
    claim = outputs.claim(location, new, True, always_active)  # complete: no liveness needed
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [claims.CLAIM]
    assert claims.ClaimRecord.from_json((tmp_path / "out" / claims.CLAIM).read_bytes()) == new
    outputs.discard(claim)
    assert not (tmp_path / "out").exists()


def test_an_incomplete_output_waits_for_its_writer_then_is_taken_over(tmp_path: Path) -> None:
    location = complete_output(tmp_path / "out")
    (tmp_path / "out" / claims.SUCCESS_MARKER).unlink()  # what a SIGKILL leaves
    with pytest.raises(DataError, match="still running"):
        outputs.claim(location, claims.new_record(RUN), True, always_active)
    with pytest.raises(DataError, match=r"no manifest of a score job.*incomplete"):
        manifests.read_output(location.uri)
    outputs.claim(location, claims.new_record(RUN), True, never_active)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [claims.CLAIM]


def test_a_takeover_marker_of_a_live_job_blocks_and_of_a_gone_job_does_not(tmp_path: Path) -> None:
    location = complete_output(tmp_path / "out")
    taker = record("fedcba9876543210", run_id="a" * 32)
    marker = tmp_path / "out" / f"{claims.TAKEOVER_PREFIX}{TOKEN}"
    marker.write_bytes(taker.to_json())
    with pytest.raises(
        DataError, match=f"being replaced by another score job \\(run {'a' * 32}\\)"
    ):
        outputs.claim(location, claims.new_record(RUN), True, always_active)
    # The taker died halfway: some of the old output is gone, its own part is there.
    (tmp_path / "out" / claims.SUCCESS_MARKER).unlink()
    tables.write_part(
        pa.table({"a": [3]}), claims.Claim(location, taker).part_path("00000"), location
    )
    mine = claims.new_record(RUN)
    outputs.claim(location, mine, True, never_active)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [claims.CLAIM]


def test_a_damaged_takeover_marker_is_not_ours(tmp_path: Path) -> None:
    location = complete_output(tmp_path / "out")
    (tmp_path / "out" / f"{claims.TAKEOVER_PREFIX}{TOKEN}").write_bytes(b"")
    before = snapshot(tmp_path / "out")
    with pytest.raises(DataError, match="did not write"):
        outputs.claim(location, claims.new_record(RUN), True, never_active)
    assert snapshot(tmp_path / "out") == before


def test_the_new_claim_exists_before_the_takeover_marker_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No moment in a takeover leaves the folder unclaimed and unmarked, where a third
    job could claim it as empty."""
    location = complete_output(tmp_path / "out")
    folder = tmp_path / "out"
    states: list[set[str]] = []
    real_create, real_filesystem = claims.create_exclusive, Location.filesystem

    class Watched:
        """The folder's filesystem, noting what the folder holds after every delete."""

        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def delete_file(self, path: str) -> None:
            self.inner.delete_file(path)  # type: ignore[attr-defined]
            states.append({p.name for p in folder.iterdir()})

    monkeypatch.setattr(
        Location, "filesystem", property(lambda self: Watched(real_filesystem.fget(self)))
    )  # type: ignore[attr-defined]
    created: list[str] = []

    def create(location: Location, name: str, body: bytes) -> bool:
        done = real_create(location, name, body)
        created.append(name)
        states.append({p.name for p in folder.iterdir()})
        return done

    monkeypatch.setattr(outputs, "create_exclusive", create)
    outputs.claim(location, claims.new_record(RUN), True, never_active)
    assert created == [f"{claims.TAKEOVER_PREFIX}{TOKEN}", claims.CLAIM]
    for state in states:
        guarded = claims.CLAIM in state or any(n.startswith(claims.TAKEOVER_PREFIX) for n in state)
        assert guarded, f"the folder was unclaimed and unmarked: {sorted(state)}"


def test_discard_removes_only_its_own_names_and_its_own_claim(tmp_path: Path) -> None:
    location = locate(str(tmp_path / "out"))
    claim = outputs.claim(location, claims.new_record(RUN), False, never_active)
    tables.write_part(pa.table({"a": [1]}), claim.part_path("00000"), location)
    (tmp_path / "out" / f"part-00000-{claim.token}-copy.parquet").write_bytes(b"not ours")
    outputs.discard(claim)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        f"part-00000-{claim.token}-copy.parquet"
    ]
    # A claim that is no longer this job's (replaced under it) is left alone.
    other = claims.new_record(RUN)
    (tmp_path / "out" / claims.CLAIM).write_bytes(other.to_json())
    outputs.discard(claim)
    assert (tmp_path / "out" / claims.CLAIM).read_bytes() == other.to_json()


def test_a_manifest_naming_parts_of_another_token_is_not_a_manifest(tmp_path: Path) -> None:
    location = complete_output(tmp_path / "out")
    path = tmp_path / "out" / claims.SUCCESS_MARKER
    data = json.loads(path.read_text())
    data["parts"] = [{"name": "part-00000-aaaaaaaaaaaaaaaa.parquet", "rows": 2}]
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="no manifest of a score job"):
        manifests.verify(location)
    with pytest.raises(DataError, match="did not write"):
        outputs.claim(location, claims.new_record(RUN), True, never_active)


def test_a_claim_is_exclusive_and_foreign_files_are_never_taken_over(tmp_path: Path) -> None:
    location = locate(str(tmp_path / "out"))
    never_active = lambda record: False  # noqa: E731
    first = outputs.claim(location, claims.new_record("a" * 32), False, never_active)
    with pytest.raises(DataError, match="incomplete"):
        outputs.claim(location, claims.new_record("b" * 32), False, never_active)
    assert not claims.create_exclusive(location, claims.CLAIM, b"x")
    outputs.discard(first)
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.csv").write_text("a user's file")
    for overwrite in (False, True):
        with pytest.raises(DataError, match=r"did not write \(mine.csv\)"):
            outputs.claim(location, claims.new_record("c" * 32), overwrite, never_active)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mine.csv"]


def test_verify_refuses_an_output_whose_parts_differ_from_its_manifest(tmp_path: Path) -> None:
    location = locate(str(tmp_path / "out"))
    claim = outputs.claim(location, claims.new_record("r" * 32), False, lambda record: False)
    tables.write_part(pa.table({"a": [1, 2]}), claim.part_path("00000"), location)
    manifest = manifests.Manifest(claim.token, "r" * 32, "in", "d", "models:/iris/1", "iris", 1, {})
    manifests.complete(claim, manifest)
    assert manifests.read_output(location.uri).column("a").to_pylist() == [1, 2]
    extra = tables.write_part(pa.table({"a": [3]}), claim.part_path("00001"), location)
    with pytest.raises(DataError, match="which its manifest does not list; it was not read"):
        manifests.read_output(location.uri)
    Path(extra).unlink()
    Path(claim.part_path("00000")).unlink()
    with pytest.raises(DataError, match="does not hold the parts its manifest lists"):
        manifests.read_output(location.uri)
