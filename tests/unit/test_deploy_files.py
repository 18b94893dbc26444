"""The deployment files are consistent with each other and with the code (no Docker needed).

Docker cannot run everywhere CI runs, so these tests read the files the way Compose,
nginx, Kubernetes and Rasa would, and check what usually goes wrong: a variable nobody
sets, a port or service name that does not match, a secret value committed by mistake.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENDPOINTS = DEPLOY / "endpoints.production.yml"
NGINX = DEPLOY / "nginx.conf"
DOCKERFILE = DEPLOY / "Dockerfile"
README = DEPLOY / "README.md"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))

RASA_SERVICES = ("rasa-1", "rasa-2")
ACTION_SERVICES = ("actions-1", "actions-2")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}; `$${...}` is an escaped dollar.
_VAR = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _k8s_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in K8S:
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _readme_variables() -> dict[str, str]:
    """Variable -> its "Default" cell in the README table ("required", "`value`", "empty")."""
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`[A-Z_][A-Z0-9_]*`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


def _vars_in(text: str) -> list[tuple[str, str, str]]:
    """(name, operator, default) of each interpolation outside comments."""
    code = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())
    return [(m.group(1), m.group(2) or "", m.group(3) or "") for m in _VAR.finditer(code)]


def _endpoint_vars() -> set[str]:
    return {name for name, _, _ in _vars_in(ENDPOINTS.read_text())}


def _nginx_upstreams() -> dict[str, list[str]]:
    text = NGINX.read_text()
    return {name: re.findall(r"^\s*server\s+([\w.-]+:\d+)", body, flags=re.M)
            for name, body in re.findall(r"upstream\s+(\w+)\s*\{(.*?)\}", text, flags=re.S)}


def _production_env() -> dict[str, str]:
    return {"ACTION_ENDPOINT_URL": "http://nginx:5055/webhook", "DB_HOST": "postgres",
            "DB_PORT": "5432", "DB_NAME": "rasa", "DB_USER": "assistant",
            "DB_PASSWORD": "not-a-secret", "REDIS_HOST": "redis", "REDIS_PORT": "6379",
            "REDIS_DB": "1", "REDIS_PASSWORD": "", "REDIS_KEY_PREFIX": "advisor"}


# ---- every file parses -------------------------------------------------------------------

@pytest.mark.parametrize("path", [COMPOSE, ENDPOINTS, *K8S], ids=lambda p: p.name)
def test_yaml_files_parse(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


def test_there_are_kubernetes_manifests() -> None:
    kinds = {d["kind"] for d in _k8s_docs()}
    assert {"Deployment", "Service", "ConfigMap"} <= kinds


# ---- variables -------------------------------------------------------------------------

def test_every_variable_is_documented_with_its_default_or_as_required() -> None:
    documented = _readme_variables()
    problems = []
    for path in (COMPOSE, ENDPOINTS):
        for name, op, default in _vars_in(path.read_text()):
            cell = documented.get(name)
            if cell is None:
                problems.append(f"{path.name}: ${{{name}}} is not in deploy/README.md")
            elif op in (":-", "-"):
                expected = f"`{default}`" if default else "empty"
                if expected not in cell:
                    problems.append(f"{path.name}: ${{{name}}} defaults to {expected}, "
                                    f"README says {cell!r}")
            elif "required" not in cell:
                problems.append(f"{path.name}: ${{{name}}} has no default; README must say "
                                f"'required', says {cell!r}")
    assert not problems, "\n".join(problems)


def test_secrets_have_no_default_anywhere() -> None:
    for name, op, default in _vars_in(COMPOSE.read_text()):
        if "PASSWORD" in name or "SECRET" in name or "TOKEN" in name:
            assert not default or op == ":?", f"{name} has a default value in compose"


def test_env_example_sets_no_secret() -> None:
    example = DEPLOY / ".env.example"
    for line in example.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert value == "", f"{name} has a value in .env.example"


# ---- endpoints.production.yml, read by Rasa itself ------------------------------------

def test_production_endpoints_load_with_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.utils.common import class_from_module_path

    for name, value in _production_env().items():
        monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))

    assert endpoints.action is not None
    assert endpoints.action.url == "http://nginx:5055/webhook"
    store = endpoints.tracker_store
    assert store is not None and store.url == "postgres"
    assert store.kwargs["dialect"] == "postgresql"
    assert (store.kwargs["db"], store.kwargs["username"]) == ("rasa", "assistant")
    # Rasa silently falls back to an in-memory store when a custom type cannot be
    # imported, so the class must resolve here.
    store_class = class_from_module_path(store.type)
    assert issubclass(store_class, TrackerStore)
    lock = endpoints.lock_store
    assert lock is not None and lock.type == "bot.rasa.lock_store.AtomicRedisLockStore"
    assert lock.url == "redis"
    assert lock.kwargs["key_prefix"].isalnum()


def test_production_endpoints_name_a_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.utils import AvailableEndpoints

    for name, value in _production_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(Exception, match="DB_PASSWORD"):
        AvailableEndpoints.read_endpoints(str(ENDPOINTS))


# ---- docker compose ----------------------------------------------------------------------

def test_compose_has_the_production_services() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "nginx", "migrate", *RASA_SERVICES,
            *ACTION_SERVICES} <= set(services)
    for name in ACTION_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"


@pytest.mark.parametrize("service", RASA_SERVICES)
def test_rasa_replicas_get_every_endpoint_variable(service: str) -> None:
    compose = _compose()
    env = compose["services"][service]["environment"]
    assert _endpoint_vars() <= set(env), _endpoint_vars() - set(env)
    services = compose["services"]
    assert env["DB_HOST"] in services and env["REDIS_HOST"] in services
    assert str(env["DB_PORT"]) == "5432" and str(env["REDIS_PORT"]) == "6379"


def test_action_endpoint_reaches_the_action_servers_through_nginx() -> None:
    compose = _compose()
    url = urlsplit(compose["services"][RASA_SERVICES[0]]["environment"]["ACTION_ENDPOINT_URL"])
    assert url.hostname == "nginx" and url.path == "/webhook"
    assert re.search(rf"listen\s+{url.port};", NGINX.read_text())
    upstreams = _nginx_upstreams()
    assert sorted(upstreams["actions"]) == [f"{s}:5055" for s in ACTION_SERVICES]
    for service in ACTION_SERVICES:
        spec = compose["services"][service]
        assert "5055" in [str(p) for p in spec["expose"]]
        assert "--port 5055" in " ".join(spec["command"])


def test_nginx_balances_the_rasa_replicas_on_their_port() -> None:
    compose = _compose()
    upstreams = _nginx_upstreams()
    expected = sorted(f"{s}:5005" for s in RASA_SERVICES)
    assert sorted(upstreams["rasa"]) == expected
    assert sorted(upstreams["rasa_sticky"]) == expected
    for service in RASA_SERVICES:
        assert "5005" in [str(p) for p in compose["services"][service]["expose"]]
    assert "RASA_PORT=5005" in DOCKERFILE.read_text()  # read by `python -m bot.serve`
    assert re.search(r"listen\s+80;", NGINX.read_text())
    published = compose["services"]["nginx"]["ports"][0]
    assert published.endswith(":80")


def test_compose_mounts_and_builds_files_that_exist() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


# ---- Dockerfile ---------------------------------------------------------------------------

def _dockerfile_cmd() -> str:
    cmd = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD")]
    assert len(cmd) == 1
    return cmd[0]


def test_dockerfile_copies_files_that_exist_and_serves_the_model_it_trains() -> None:
    text = DOCKERFILE.read_text()
    for line in text.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            sources = [w for w in line.split()[1:-1] if not w.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "FROM python:3.10" in text  # Rasa 3.6 runs on Python 3.8-3.10
    trained = re.search(r"--fixed-model-name\s+(\S+)", text)
    assert trained and f"models/{trained.group(1)}.tar.gz" in _dockerfile_cmd()
    assert "deploy/endpoints.production.yml" in _dockerfile_cmd()
    assert "--enable-api" not in text
    # The runtime install keeps what is above this marker in requirements.txt.
    assert "# tests and tooling" in (ROOT / "requirements.txt").read_text()


# ---- Kubernetes ---------------------------------------------------------------------------

def test_kubernetes_objects_are_well_formed() -> None:
    for doc in _k8s_docs():
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert doc.get("metadata", {}).get("name"), doc


def test_kubernetes_commits_no_secret_values() -> None:
    for doc in _k8s_docs():
        assert doc["kind"] != "Secret", "Secrets are created outside the repository"
        if doc["kind"] == "ConfigMap":
            for key in doc["data"]:
                assert not re.search("PASSWORD|SECRET|TOKEN", key), f"{key} in a ConfigMap"


def _deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _k8s_docs() if d["kind"] == "Deployment"}


def test_deployments_select_their_pods_and_use_one_image() -> None:
    images = set()
    for name, deployment in _deployments().items():
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        assert spec["replicas"] >= 2, f"{name} must run at least two replicas"
        pod = spec["template"]["spec"]
        for container in pod["containers"]:
            images.add(container["image"])
            assert container["ports"], f"{name} declares no port"
        images |= {c["image"] for c in pod.get("initContainers", [])}
    assert len(images) == 1, images


def test_services_point_at_deployment_ports() -> None:
    deployments = _deployments()
    for service in (d for d in _k8s_docs() if d["kind"] == "Service"):
        selector = service["spec"]["selector"]
        matching = [d for d in deployments.values()
                    if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matching) == 1, f"{service['metadata']['name']} selects {len(matching)}"
        containers = matching[0]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for c in containers for p in c["ports"]}
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            assert target in ports or target in ports.values()
            assert port["port"] == ports.get(target, target)


def test_kubernetes_rasa_gets_every_endpoint_variable_and_existing_references() -> None:
    docs = _k8s_docs()
    config_maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    rasa = _deployments()["cloud-advisor-rasa"]["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in rasa.get("env", [])}
    for source in rasa.get("envFrom", []):
        names |= set(config_maps[source["configMapRef"]["name"]])
    assert _endpoint_vars() <= names, _endpoint_vars() - names
    for deployment in _deployments().values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "cloud-advisor-secrets"
    action_url = urlsplit(next(iter(config_maps.values()))["ACTION_ENDPOINT_URL"])
    assert action_url.hostname in services
    assert action_url.port in [p["port"] for p in services[action_url.hostname]["spec"]["ports"]]
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in services


def test_nginx_conf_is_balanced_and_terminated() -> None:
    text = re.sub(r"#.*", "", NGINX.read_text())
    assert text.count("{") == text.count("}")
    for line in (raw.strip() for raw in text.splitlines()):
        if line and not line.endswith(("{", "}", ";")):
            raise AssertionError(f"nginx.conf: unterminated directive {line!r}")


# ---- the widget on another site, behind two replicas (issue 13, item 8) -------------------

WIDGET_JS = ROOT / "bot" / "channels" / "widget" / "static" / "widget.js"


def _widget_affinity_parameter() -> str:
    match = re.search(r"query:\s*\{\s*(\w+):\s*affinityKey\(\)", WIDGET_JS.read_text())
    assert match, "widget.js sends no affinity key with its socket"
    return match.group(1)


def _ingresses_by_path() -> dict[str, dict[str, Any]]:
    return {path["path"]: ingress
            for ingress in _k8s_docs() if ingress["kind"] == "Ingress"
            for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}


def _annotations(ingress: dict[str, Any]) -> dict[str, str]:
    return {k.removeprefix("nginx.ingress.kubernetes.io/"): str(v)
            for k, v in (ingress["metadata"].get("annotations") or {}).items()}


def test_widget_connects_by_websocket_first_with_its_affinity_key() -> None:
    widget = WIDGET_JS.read_text()
    assert 'transports: ["websocket", "polling"]' in widget
    assert "tryAllTransports: true" in widget
    assert _widget_affinity_parameter() == "affinity"


def test_ingress_keeps_each_socket_on_one_replica_by_the_widgets_key() -> None:
    # Long-polling needs every request of a socket on one replica. From a page on another
    # site a cookie is third-party (blocked by many browsers), so the key in the URL is
    # hashed instead.
    ingresses = _ingresses_by_path()
    socket = _annotations(ingresses["/socket.io/"])
    assert socket.get("upstream-hash-by") == f"$arg_{_widget_affinity_parameter()}"
    assert "affinity" not in socket  # a cookie affinity would override the hash
    # ingress-nginx balances per Service: the socket has its own, on the Rasa pods.
    services = {d["metadata"]["name"]: d for d in _k8s_docs() if d["kind"] == "Service"}
    socket_service = ingresses["/socket.io/"]["spec"]["rules"][0]["http"]["paths"][0][
        "backend"]["service"]["name"]
    rest_service = ingresses["/"]["spec"]["rules"][0]["http"]["paths"][0][
        "backend"]["service"]["name"]
    assert socket_service != rest_service
    assert services[socket_service]["spec"]["selector"] == services[rest_service]["spec"][
        "selector"]
    # Everything else is stateless: no affinity, no hashing (REST turns spread out).
    rest = _annotations(ingresses["/"])
    assert "upstream-hash-by" not in rest and "affinity" not in rest
    # The assistant answers CORS itself; nginx's CORS would send a second Allow-Origin.
    for ingress in ingresses.values():
        assert _annotations(ingress).get("enable-cors", "false") == "false"


def test_nginx_keeps_each_socket_on_one_replica_and_passes_websocket_upgrades() -> None:
    text = re.sub(r"#.*", "", NGINX.read_text())
    key = re.search(r"map\s+\$arg_(\w+)\s+\$(\w+)\s*\{", text)
    assert key and key.group(1) == _widget_affinity_parameter()
    sticky = re.search(r"upstream\s+rasa_sticky\s*\{(.*?)\}", text, flags=re.S)
    assert sticky and re.search(rf"^\s*hash\s+\${key.group(2)}\s+consistent\s*;",
                                sticky.group(1), flags=re.M)
    socket = re.search(r"location\s+/socket\.io/\s*\{(.*?)\}", text, flags=re.S)
    assert socket, "nginx.conf has no location for /socket.io/"
    body = socket.group(1)
    assert "proxy_pass http://rasa_sticky;" in body
    assert "proxy_http_version 1.1;" in body
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", body)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", body)


# ---- hardening (issue 13, item 13) --------------------------------------------------------

def _pod_specs() -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"] for name, d in _deployments().items()}


def test_pods_cannot_gain_privileges_and_write_only_to_a_scratch_volume() -> None:
    for name, pod in _pod_specs().items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        scratch = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in pod["containers"] + pod.get("initContainers", []):
            where = f"{name}/{container['name']}"
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert "ALL" in context.get("capabilities", {}).get("drop", []), where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/tmp") in scratch, f"{where}: /tmp is not writable"
    services = _compose()["services"]
    for name in (*RASA_SERVICES, *ACTION_SERVICES, "migrate"):
        service = services[name]
        assert service.get("read_only") is True, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert "/tmp" in service.get("tmpfs", []), name


def test_only_the_rasa_pods_may_call_the_action_server() -> None:
    policies = [d for d in _k8s_docs() if d["kind"] == "NetworkPolicy"]
    actions = _deployments()["cloud-advisor-actions"]["spec"]["template"]
    rasa_labels = _deployments()["cloud-advisor-rasa"]["spec"]["template"]["metadata"]["labels"]
    guarding = [p for p in policies
                if p["spec"]["podSelector"]["matchLabels"].items()
                <= actions["metadata"]["labels"].items()]
    assert guarding, "no NetworkPolicy selects the action server's pods"
    ports = {p["containerPort"] for c in actions["spec"]["containers"] for p in c["ports"]}
    for policy in guarding:
        assert "Ingress" in policy["spec"]["policyTypes"]
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:  # no rule without `from`: that would allow everyone
                assert set(peer) == {"podSelector"}, peer  # no ipBlock, no namespace
                assert peer["podSelector"]["matchLabels"].items() <= rasa_labels.items()
            assert {p["port"] for p in rule["ports"]} <= ports


def test_the_servers_connect_with_their_own_roles_not_the_superuser() -> None:
    init = (DEPLOY / "postgres-init.sh").read_text()
    rasa_role = re.search(r"RASA_DB_USER:=(\w+)", init)
    actions_role = re.search(r"ACTIONS_DB_USER:=(\w+)", init)
    assert rasa_role and actions_role
    compose = _compose()
    rasa_env = compose["services"]["rasa-1"]["environment"]
    assert "POSTGRES_USER" not in rasa_env["DB_USER"]
    assert "POSTGRES_PASSWORD" not in rasa_env["DB_PASSWORD"]
    assert rasa_role.group(1) in rasa_env["DB_USER"]
    actions_env = compose["services"]["actions-1"]["environment"]
    for url in (actions_env["DATABASE_URL"], actions_env["TRACKER_DATABASE_URL"]):
        assert "POSTGRES_" not in url and actions_role.group(1) in url
    config = next(d["data"] for d in _k8s_docs() if d["kind"] == "ConfigMap")
    assert config["DB_USER"] == rasa_role.group(1)


def test_the_api_token_is_never_on_a_command_line() -> None:
    for path in [DOCKERFILE, COMPOSE, *K8S]:
        assert "--auth-token" not in path.read_text(), path.name
    # The image starts through `bot.serve`, which hands the token to Rasa in memory.
    assert '"bot.serve"' in _dockerfile_cmd()
    assert "deploy/credentials.slack.yml" in DOCKERFILE.read_text()
