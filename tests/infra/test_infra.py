"""infra/ checked without Docker or a cluster: what the files say must refer to things that exist and
agree with each other, with `make setup`, and with what Prefect and MLflow accept."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (pyproject allows it): the same parser, as pip vendors it
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
COMPOSE = INFRA / "docker-compose.yml"
DOCKERFILE = INFRA / "Dockerfile"
K8S_TEMPLATE = INFRA / "k8s" / "zerollm-gpu.json"
K8S_PVC = INFRA / "k8s" / "workdir-pvc.yaml"

SERVICES = {"prefect-server", "prefect-db", "mlflow", "mlflow-db", "minio", "minio-init", "worker"}
# ${VAR}, ${VAR:-default}, ${VAR-default}: Compose's interpolation forms.
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")
ONLY_VAR_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|ROOT_USER", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/@\s:]+:([^@\s]+)@")


# ---------- helpers ----------

def resolve(value: str) -> str:
    """A Compose string as it reads with no variables set (the documented local defaults)."""
    value = value.replace("$$", "\0")
    return VAR_REF.sub(lambda m: m.group(2) or "", value).replace("\0", "$")


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def argv(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def option(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {d: "service_started" for d in deps}
    return {k: (v or {}).get("condition", "service_started") for k, v in deps.items()}


def listen_port(compose: dict, name: str) -> int:
    """The port a server service listens on inside the network (its own --port)."""
    return int(option(argv(compose["services"][name]), "--port"))


def postgres_target(compose: dict, url: str) -> tuple[str, dict[str, str]]:
    """Check a raw (uninterpolated) database URL against the Postgres service it names."""
    m = re.match(r"^postgresql(\+\w+)?://([^:@]+):(.+)@([^:/@]+):(\d+)/(\w+)$", url)
    assert m, f"not a postgresql://user:password@host:port/db URL: {url}"
    _, user, password, host, port, db = m.groups()
    assert host in compose["services"], f"{url} names no service {host!r}"
    db_service = compose["services"][host]
    assert db_service["image"].startswith("postgres:"), f"{host} is not a postgres service"
    env = env_of(db_service)
    assert (user, db, port) == (env["POSTGRES_USER"], env["POSTGRES_DB"], "5432")
    # The same variable on both sides, not merely the same default: a changed secret must reach both.
    assert password == env["POSTGRES_PASSWORD"], f"{url}: password differs from {host}'s POSTGRES_PASSWORD"
    return host, env


def published(entry) -> tuple[str | None, int]:
    """(host address, container port) of one `ports` entry, short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("host_ip"), int(entry["target"])
    parts = resolve(str(entry)).rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], int(parts[2].split("/")[0])
    return None, int(parts[-1].split("/")[0])


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


# ---------- docker-compose.yml ----------

def test_compose_has_the_services(compose):
    missing = SERVICES - set(compose["services"])
    assert not missing, f"services missing from {COMPOSE.name}: {sorted(missing)}"
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), f"{name}: neither image nor build"


def test_build_contexts_and_dockerfiles_exist(compose):
    stages = {s.name for s in dockerfile_stages(DOCKERFILE)}
    built = 0
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is None:
            continue
        built += 1
        build = {"context": build} if isinstance(build, str) else build
        context = (COMPOSE.parent / resolve(build.get("context", "."))).resolve()
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = context / resolve(build.get("dockerfile", "Dockerfile"))
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        if "target" in build:
            assert dockerfile.resolve() == DOCKERFILE.resolve()
            assert build["target"] in stages, f"{name}: no stage {build['target']!r} in {DOCKERFILE.name}"
    assert built >= 2, "the worker and the MLflow server are built from infra/Dockerfile"


def test_mounts_exist(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for vol in service.get("volumes") or []:
            if isinstance(vol, dict):
                kind, source = vol.get("type"), vol.get("source", "")
            else:
                source = resolve(str(vol)).split(":")[0]
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            if kind == "bind":
                path = (COMPOSE.parent / resolve(source)).resolve()
                assert path.exists(), f"{name}: bind mount {source} -> {path} does not exist"
                assert path.is_relative_to(ROOT), f"{name}: {source} lies outside the repository"
            else:
                assert source in declared, f"{name}: volume {source!r} is not declared under volumes:"


def test_depends_on_names_services(compose):
    services = compose["services"]
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            assert dep in services and dep != name, f"{name} depends on unknown service {dep!r}"
            assert condition in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no healthcheck"
    # mlflow must not start before its bucket exists; the worker needs both servers up.
    assert depends_on(services["mlflow"]).get("minio-init") == "service_completed_successfully"
    assert {"prefect-server", "mlflow"} <= set(depends_on(services["worker"]))


def test_worker_points_at_the_servers(compose):
    services = compose["services"]
    worker = services["worker"]
    env = env_of(worker)
    for var, path in (("PREFECT_API_URL", "/api"), ("MLFLOW_TRACKING_URI", "")):
        url = urlparse(env[var])
        assert url.scheme == "http" and url.hostname in services, f"{var}={env[var]} names no service"
        assert url.port == listen_port(compose, url.hostname), f"{var}: {url.hostname} listens elsewhere"
        assert url.path.rstrip("/") == path
    assert urlparse(env["PREFECT_API_URL"]).hostname == "prefect-server"
    assert urlparse(env["MLFLOW_TRACKING_URI"]).hostname == "mlflow"
    args = argv(worker)
    assert args[:3] == ["prefect", "worker", "start"] and option(args, "--pool") == "zerollm"
    assert option(args, "--type") == "process"
    assert env["ZEROLLM_WORKDIR"] in {resolve(str(v)).split(":")[1] for v in worker["volumes"]}, \
        "the workdir must be a volume, or stage outputs die with the container"


def test_prefect_server_on_postgres(compose):
    server = compose["services"]["prefect-server"]
    env = env_of(server)
    url = env["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert url.startswith("postgresql+asyncpg://")
    host, _ = postgres_target(compose, url)
    assert depends_on(server).get(host) == "service_healthy"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"].lower() == "false"
    args = argv(server)
    assert args[:3] == ["prefect", "server", "start"] and option(args, "--host") == "0.0.0.0"
    # The worker's Prefect client and the server must be the same release.
    pin = re.search(r'"prefect==([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8")).group(1)
    assert server["image"].split(":")[1].startswith(pin + "-"), f"{server['image']} is not prefect {pin}"


def test_mlflow_server_on_postgres_and_minio(compose):
    services = compose["services"]
    mlflow = services["mlflow"]
    args = argv(mlflow)
    assert args[:2] == ["mlflow", "server"] and option(args, "--host") == "0.0.0.0"
    host, _ = postgres_target(compose, option(args, "--backend-store-uri"))
    assert depends_on(mlflow).get(host) == "service_healthy"

    init = " ".join(argv(services["minio-init"]))
    made = re.findall(r"mc mb (?:--\S+ )*local/([a-z0-9.-]+)", init)
    assert made, "minio-init creates no bucket"
    dest = urlparse(option(args, "--artifacts-destination"))
    assert dest.scheme == "s3" and dest.netloc in made, f"artifacts go to {dest.netloc!r}, init makes {made}"
    # Clients hold no S3 credentials, so the server must proxy artifacts rather than hand out s3:// URIs.
    assert "--no-serve-artifacts" not in args and "--default-artifact-root" not in args
    assert not {"AWS_SECRET_ACCESS_KEY", "MLFLOW_S3_ENDPOINT_URL"} & set(env_of(services["worker"]))

    env, minio_env = env_of(mlflow), env_of(services["minio"])
    s3 = urlparse(env["MLFLOW_S3_ENDPOINT_URL"])
    assert s3.hostname == "minio" and s3.port == 9000, "MinIO serves S3 on minio:9000"
    assert re.search(r"mc alias set local http://minio:9000 ", init)
    assert env["AWS_ACCESS_KEY_ID"] == minio_env["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == minio_env["MINIO_ROOT_PASSWORD"]


def test_mlflow_accepts_the_host_names_clients_use(compose):
    """MLflow 3 refuses Host headers outside --allowed-hosts; the worker sends "mlflow:5000"."""
    mlflow = compose["services"]["mlflow"]
    allowed = resolve(option(argv(mlflow), "--allowed-hosts")).split(",")
    worker_host = urlparse(env_of(compose["services"]["worker"])["MLFLOW_TRACKING_URI"]).netloc
    healthcheck = " ".join(mlflow["healthcheck"]["test"])
    browser_host = f"127.0.0.1:{listen_port(compose, 'mlflow')}"
    probe_host = urlparse(re.search(r"http://[^'\" ]+", healthcheck).group(0)).netloc
    for host in (worker_host, browser_host, probe_host):
        assert any(fnmatch.fnmatch(host, p) for p in allowed), f"MLflow would refuse Host {host!r}"


def test_published_ports_bind_loopback(compose):
    for name, service in compose["services"].items():
        for entry in service.get("ports") or []:
            address, port = published(entry)
            assert address == "127.0.0.1", f"{name} publishes {port} on {address or 'all addresses'}"
        ports = {published(e)[1] for e in service.get("ports") or []}
        if service.get("image", "").startswith("postgres:"):
            assert not ports, f"{name}: Postgres stays inside the compose network"
        if name == "minio":
            assert 9000 not in ports, "MinIO's S3 API stays inside the network (MLflow proxies artifacts)"
    for name in ("prefect-server", "mlflow"):
        ports = {published(e)[1] for e in compose["services"][name].get("ports") or []}
        assert listen_port(compose, name) in ports, f"{name}'s UI is not published"


def test_no_literal_secrets(compose):
    for name, service in compose["services"].items():
        for key, value in env_of(service).items():
            if SECRET_NAME.search(key):
                assert ONLY_VAR_REF.match(value), f"{name}: {key} must be ${{VAR:-default}}, not a literal"
                default = VAR_REF.match(value).group(2) or ""
                if "PASSWORD" in key or "SECRET" in key:
                    assert "local-only" in default, f"{name}: {key}'s default must say it is for local use only"
    for s in strings(compose):
        for password in URL_PASSWORD.findall(s):
            assert ONLY_VAR_REF.match(password), f"literal password in {s!r}"
        for creds in re.findall(r"mc alias set \S+ \S+ (\S+) (\S+)", s):
            assert all(c.strip('"').startswith("$") for c in creds), f"literal MinIO credentials in {s!r}"


# ---------- Dockerfile ----------

class Stage:
    def __init__(self, base: str, name: str):
        self.base, self.name, self.lines = base, name, []


def dockerfile_stages(path: Path) -> list[Stage]:
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            m = re.match(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.IGNORECASE)
            stages.append(Stage(m.group(1), m.group(2) or ""))
        else:
            stages[-1].lines.append((word.upper(), rest.strip()))
    return stages


def chain(stages: list[Stage], target: str) -> list[Stage]:
    """A target stage and the stages it is built FROM, oldest first."""
    by_name = {s.name: s for s in stages}
    out = [by_name[target]]
    while out[0].base in by_name:
        out.insert(0, by_name[out[0].base])
    return out


def run_commands(stages: list[Stage]) -> list[str]:
    return [re.sub(r"^(--\S+\s+)+", "", rest) for s in stages for word, rest in s.lines if word == "RUN"]


def make_var(name: str) -> str:
    return re.search(rf"^{name}\s*\??=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE).group(1)


def setup_inputs() -> set[str]:
    """What `make setup` reads: the Makefile, its stamp rule's prerequisites, and what pip install -e
    needs from pyproject (the readme and the packages)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    prereqs = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.MULTILINE).group(1).split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    return {"Makefile", project["project"]["readme"], *prereqs, *packages}


def worker_target(compose: dict) -> str:
    return compose["services"]["worker"]["build"]["target"]


def test_dockerfile_base_and_build_tools():
    stages = dockerfile_stages(DOCKERFILE)
    assert stages[0].base == "python:3.11-slim"
    installs = " ".join(c for c in run_commands(stages[:1]) if "apt-get install" in c).split()
    for pkg in ("build-essential", "cmake", "git"):
        assert pkg in installs, f"{pkg} is needed to build the llama-cpp-python sdist"


def test_worker_image_installs_with_make_setup(compose):
    stages = chain(dockerfile_stages(DOCKERFILE), worker_target(compose))
    runs = run_commands(stages)
    assert runs.count("make setup") == 1, f"the image must run `make setup` itself: {runs}"
    installers = re.compile(r"\bpip3?\s+install\b|-m\s+pip\b|\buv\s+pip\b|\bpoetry\b|\bconda\b")
    extra = [r for r in runs if installers.search(r)]
    assert not extra, f"installs besides make setup would drift from it: {extra}"
    workdir = [rest for s in stages for word, rest in s.lines if word == "WORKDIR"][-1]
    path = " ".join(rest for s in stages for word, rest in s.lines if word == "ENV" and "PATH=" in rest)
    assert f"{workdir}/{make_var('VENV')}/bin" in path, "the venv make setup creates must be on PATH"
    # A plain `docker build` gives the worker.
    assert dockerfile_stages(DOCKERFILE)[-1].name == worker_target(compose)
    cmd = json.loads([rest for s in stages for word, rest in s.lines if word == "CMD"][-1])
    assert cmd[:3] == ["prefect", "worker", "start"] and cmd[cmd.index("--pool") + 1] == "zerollm"


def test_dockerfile_copies_what_make_setup_reads(compose):
    stages = chain(dockerfile_stages(DOCKERFILE), worker_target(compose))
    workdir = Path([rest for s in stages for word, rest in s.lines if word == "WORKDIR"][-1])
    placed: dict[str, Path] = {}  # repository path -> where it lands in the image
    for s in stages:
        for word, rest in s.lines:
            if word == "RUN" and "make setup" in rest:
                break
            if word == "COPY" and "--from" not in rest:
                *sources, dest = [a for a in rest.split() if not a.startswith("--")]
                for src in sources:
                    assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
                    target = workdir / dest
                    if (ROOT / src).is_file() and (dest.endswith("/") or len(sources) > 1):
                        target = target / Path(src).name
                    placed[src.rstrip("/")] = target
        else:
            continue
        break
    for need in sorted(setup_inputs()):
        assert need in placed, f"{need} (read by make setup) is not copied before it runs"
        assert placed[need] == workdir / need, f"{need} lands at {placed[need]}, make setup reads {workdir / need}"


def test_mlflow_image_stage_exists_and_serves(compose):
    stages = dockerfile_stages(DOCKERFILE)
    target = compose["services"]["mlflow"]["build"]["target"]
    line = chain(stages, target)
    assert "make setup" in run_commands(line), "the server must run the MLflow make setup installs"
    extras = " ".join(r for r in run_commands(line[-1:]))
    assert "psycopg2" in extras and "boto3" in extras, "Postgres and S3 clients for the server's stores"


# ---------- k8s work-pool template ----------

@pytest.fixture(scope="module")
def template() -> dict:
    data = json.loads(K8S_TEMPLATE.read_text(encoding="utf-8"))
    assert set(data) == {"job_configuration", "variables"}
    return data


def render(template: dict, **values) -> dict:
    """job_configuration as a worker fills it: variable defaults, then the given values."""
    from prefect.utilities.templating import apply_values

    props = template["variables"]["properties"]
    merged = {k: v["default"] for k, v in props.items() if v.get("default") is not None}
    merged.update(values)
    return apply_values(copy.deepcopy(template["job_configuration"]), merged)


def test_k8s_template_is_a_valid_base_job_template(template):
    import jsonschema
    from prefect.server.schemas.actions import validate_base_job_template
    from prefect.utilities.templating import find_placeholders

    validate_base_job_template(template)  # what `prefect work-pool create` runs server-side
    props = template["variables"]["properties"]
    used = {p.name for p in find_placeholders(template["job_configuration"])}
    assert used <= set(props), f"undeclared variables: {sorted(used - set(props))}"
    unused = set(props) - used
    assert not unused, f"variables no placeholder uses (they would do nothing): {sorted(unused)}"
    jsonschema.Draft202012Validator.check_schema(template["variables"])
    for schema in props.values():
        if "default" in schema:
            jsonschema.validate(schema["default"], schema)


def test_k8s_template_renders_a_gpu_job(template, compose):
    config = render(template)
    assert not [s for s in strings(config) if "{{" in s], "placeholders left after rendering"
    job = config["job_manifest"]
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    assert container["name"] == "prefect-job"  # the Kubernetes worker requires this name
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    assert pod.get("tolerations") or pod.get("nodeSelector"), "nothing steers the pods to GPU nodes"
    assert container["image"] == compose["services"]["worker"]["image"], "default image is not the worker's"

    env = config["env"]
    assert env["MLFLOW_TRACKING_URI"].startswith("http")
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert env["ZEROLLM_WORKDIR"] in mounts, "the workdir must be the shared volume"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[env["ZEROLLM_WORKDIR"]]]
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"

    # The placeholders are wired: a deployment's job_variables reach the manifest.
    four = render(template, gpu_count=4, image="registry.example.com/zerollm:abc")
    container = four["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 4
    assert container["image"] == "registry.example.com/zerollm:abc"


def test_k8s_workdir_claim_matches_the_template(template):
    pvc = yaml.safe_load(K8S_PVC.read_text(encoding="utf-8"))
    props = template["variables"]["properties"]
    assert pvc["kind"] == "PersistentVolumeClaim"
    assert pvc["metadata"]["name"] == props["work_pvc"]["default"]
    assert pvc["metadata"]["namespace"] == props["namespace"]["default"]
    assert "ReadWriteMany" in pvc["spec"]["accessModes"], "pods on different nodes share the workdir"


def test_readme_commands_name_real_files():
    readme = (INFRA / "README.md").read_text(encoding="utf-8")
    create = re.search(r"prefect work-pool create (\S+) --type (\S+) --base-job-template (\S+)", readme)
    assert create and create.groups() == ("zerollm-gpu", "kubernetes", str(K8S_TEMPLATE.relative_to(ROOT)))
    for path in re.findall(r"(?<![\w/])(infra/[\w./-]+\.(?:ya?ml|json|txt)|infra/Dockerfile)\b", readme):
        assert (ROOT / path).exists(), f"infra/README.md names {path}, which does not exist"
