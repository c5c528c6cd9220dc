"""Unit tests of the step kit's lifecycle/datasets.py: cache, mirror, download, sha256
checks and the message shown when neither network nor mirror can supply a file."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.io import datasets as fetch
from tests.helpers import REPO_ROOT, free_port

CONTENT = b"Date;Open;High;Low;Close;Volume\r\n2004.06.11 00:00;384;384.8;382.8;384.1;272\r\n"


def pinned(url: str = "http://127.0.0.1:9/none.csv", content: bytes = CONTENT):
    return fetch.PinnedFile(
        dataset="demo",
        filename="demo.csv",
        url=url,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )


@pytest.fixture(autouse=True)
def no_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fetch.MIRROR_ENV, raising=False)


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A static file server on 127.0.0.1 serving ``tmp_path / 'www'``; stopped afterwards."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def mirror_with(tmp_path: Path, content: bytes) -> Path:
    mirror = tmp_path / "mirror"
    (mirror / "demo").mkdir(parents=True)
    (mirror / "demo" / "demo.csv").write_bytes(content)
    return mirror


def test_a_verified_mirror_file_is_read_in_place(tmp_path: Path) -> None:
    mirror = mirror_with(tmp_path, CONTENT)
    cache = tmp_path / "cache"
    path = fetch.fetch_file(pinned(), mirror=mirror, cache_dir=cache)
    assert path == mirror / "demo" / "demo.csv"
    assert not cache.exists()


def test_the_environment_variable_names_the_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = mirror_with(tmp_path, CONTENT)
    monkeypatch.setenv(fetch.MIRROR_ENV, str(mirror))
    assert fetch.fetch_file(pinned(), cache_dir=tmp_path / "cache") == mirror / "demo/demo.csv"


def test_a_relative_mirror_starts_at_the_repository_root() -> None:
    assert fetch.mirror_directory("some/mirror") == REPO_ROOT / "some" / "mirror"
    assert fetch.mirror_directory("") is None


def test_a_mirror_holding_another_release_is_refused(tmp_path: Path) -> None:
    mirror = mirror_with(tmp_path, CONTENT + b"2004.06.14 00:00;1;1;1;1;1\r\n")
    with pytest.raises(fetch.FetchError, match="different release") as caught:
        fetch.fetch_file(pinned(), mirror=mirror, cache_dir=tmp_path / "cache")
    assert pinned().sha256 in str(caught.value)


def test_no_network_and_no_mirror_names_both_ways_to_supply_the_file(tmp_path: Path) -> None:
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch_file(pinned(), cache_dir=tmp_path / "cache", timeout=5)
    message = str(caught.value)
    assert "http://127.0.0.1:9/none.csv" in message
    assert "connect to the internet" in message
    assert "DATASETS_MIRROR" in message
    assert "--datasets-mirror" in message
    assert "demo/demo.csv" in message
    assert not (tmp_path / "cache" / "demo").exists() or not any(
        (tmp_path / "cache" / "demo").iterdir()
    )


def test_a_mirror_without_the_file_is_mentioned_when_the_download_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(fetch.FetchError, match=r"the mirror .*empty has no demo/demo.csv"):
        fetch.fetch_file(pinned(), mirror=empty, cache_dir=tmp_path / "cache", timeout=5)


def test_download_is_verified_and_cached(tmp_path: Path, http_root: tuple[Path, str]) -> None:
    root, base = http_root
    (root / "demo.csv").write_bytes(CONTENT)
    cache = tmp_path / "cache"
    path = fetch.fetch_file(pinned(f"{base}/demo.csv"), cache_dir=cache)
    assert path == cache / "demo" / "demo.csv"
    assert path.read_bytes() == CONTENT
    (root / "demo.csv").unlink()  # a second call is served from the verified cache
    assert fetch.fetch_file(pinned(f"{base}/demo.csv"), cache_dir=cache) == path


def test_a_download_with_the_wrong_digest_is_discarded(
    tmp_path: Path, http_root: tuple[Path, str]
) -> None:
    root, base = http_root
    (root / "demo.csv").write_bytes(CONTENT.replace(b"384.1", b"999.9"))
    cache = tmp_path / "cache"
    with pytest.raises(fetch.FetchError, match="the download was discarded"):
        fetch.fetch_file(pinned(f"{base}/demo.csv"), cache_dir=cache)
    assert list((cache / "demo").iterdir()) == []


def test_a_corrupted_cache_entry_is_fetched_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "demo").mkdir(parents=True)
    (cache / "demo" / "demo.csv").write_bytes(b"garbage")
    mirror = mirror_with(tmp_path, CONTENT)
    assert fetch.fetch_file(pinned(), mirror=mirror, cache_dir=cache) == mirror / "demo/demo.csv"
    assert not (cache / "demo" / "demo.csv").exists()


def test_every_project_pins_its_own_files_and_the_command_finds_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from lifecycle import fetch as fetch_command

    pins = fetch_command.pinned_files()
    assert {name: [p.relative_path for p in files] for name, files in pins.items()} == {
        "cities": ["cities/Worldwide_Travel_Cities_Dataset.csv"],
        "gold_prices": ["gold_prices/XAU_1d_data.csv"],
        "iris": [],
    }
    assert fetch_command.main(["nope"]) == 1
    assert "unknown project(s) nope; projects: cities, gold_prices, iris" in caplog.text
