"""deploy/kubernetes.yaml (no cluster here): every document validated against the
Kubernetes API schemas in strict mode (kubernetes-validate), and checked against the
Dockerfile and itself: probes on /health at the port the image EXPOSEs, the image's user,
a Service and an HPA that point at the Deployment, one gunicorn worker per CPU."""
import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
# The oldest Kubernetes release we claim to run on, and the newest the library knows.
KUBERNETES_VERSIONS = ["1.30", "1.37"]


def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def the(kind: str) -> dict:
    found = [d for d in documents() if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} in {MANIFEST.name}, found {len(found)}"
    return found[0]


def container() -> dict:
    (c,) = the("Deployment")["spec"]["template"]["spec"]["containers"]
    return c


def dockerfile_final_stage() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last stage, continuations joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    stage: list[tuple[str, str]] = []
    for ln in lines:
        instruction, _, args = ln.partition(" ")
        if instruction.upper() == "FROM":
            stage = []
        stage.append((instruction.upper(), args.strip()))
    return stage


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_final_stage():
        if instruction == "ENV":
            env.update(re.findall(r"""(\w+)=("[^"]*"|'[^']*'|\S+)""", args))
    return {k: v.strip("\"'") for k, v in env.items()}


def exposed_port() -> int:
    (port,) = [int(a.split("/")[0]) for i, args in dockerfile_final_stage() if i == "EXPOSE"
               for a in args.split()]
    return port


def image_uid() -> int:
    users = [args for i, args in dockerfile_final_stage() if i == "USER"]
    user = users[-1].split(":")[0]
    if user.isdigit():
        return int(user)
    runs = " ".join(args for i, args in dockerfile_final_stage() if i == "RUN")
    useradd = re.search(rf"(?:--uid|-u)\s+(\d+)\b[^&;]*\b{re.escape(user)}\b", runs)
    return int(useradd.group(1))


def port_number(port) -> int:
    """A probe's or a Service's port, by number or by the container port's name."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container()["ports"] if p.get("name") == port]
    return number


def cpus(quantity) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


# --- the schemas ---------------------------------------------------------------------

def test_the_manifest_holds_a_deployment_a_service_and_an_hpa():
    assert sorted(d["kind"] for d in documents()) == [
        "Deployment", "HorizontalPodAutoscaler", "Service"]
    assert the("HorizontalPodAutoscaler")["apiVersion"] == "autoscaling/v2"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_document_validates_strictly_against_the_kubernetes_schemas(version):
    assert version in {v.rsplit(".", 1)[0] for v in all_versions()}
    for doc in documents():
        # raises ValidationError (a wrong or unknown field: strict) or SchemaNotFoundError
        # (a kind or apiVersion this Kubernetes does not have)
        assert kubernetes_validate.validate(doc, version, strict=True) == version


@pytest.mark.parametrize("break_it", [
    "misspelled field", "wrong type", "unknown apiVersion"])
def test_the_validation_rejects_a_broken_manifest(break_it):
    """The check above has teeth: strict mode refuses a field Kubernetes does not know."""
    deployment = copy.deepcopy(the("Deployment"))
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    if break_it == "misspelled field":
        probe["periodSecond"] = probe.pop("periodSeconds")
        error = kubernetes_validate.ValidationError
    elif break_it == "wrong type":
        probe["periodSeconds"] = "five"
        error = kubernetes_validate.ValidationError
    else:
        deployment["apiVersion"] = "apps/v1beta2"
        error = kubernetes_validate.SchemaNotFoundError
    with pytest.raises(error):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


# --- against the Dockerfile ----------------------------------------------------------

def test_the_container_listens_on_the_port_the_dockerfile_exposes():
    port = exposed_port()
    assert [p["containerPort"] for p in container()["ports"]] == [port]
    assert int(dockerfile_env().get("PORT", port)) == port  # gunicorn binds $PORT


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_every_probe_gets_health_on_the_exposed_port(probe):
    get = container()[probe]["httpGet"]
    assert get["path"] == "/health"
    assert port_number(get["port"]) == exposed_port()
    assert get.get("scheme", "HTTP") == "HTTP"


def test_the_probes_wait_for_a_cold_compile_and_spare_a_busy_pod():
    c = container()
    startup, liveness = c["startupProbe"], c["livenessProbe"]
    # a cold compile takes ~30 s at worst: at least twice that before giving up
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
    # a pod is restarted only after a minute of silence (gunicorn's own worker timeout),
    # and one slow answer under load is no failure
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60
    assert liveness["timeoutSeconds"] >= 3
    assert c["readinessProbe"]["timeoutSeconds"] >= 2


def test_the_pod_runs_as_the_dockerfiles_user_without_privileges():
    pod = the("Deployment")["spec"]["template"]["spec"]
    uid = image_uid()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    sc = container()["securityContext"]
    assert sc.get("runAsUser", uid) == uid
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"


def test_a_read_only_root_keeps_tmp_writable_and_hides_no_baked_compile_cache():
    c = container()
    pod = the("Deployment")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    if c["securityContext"].get("readOnlyRootFilesystem"):
        tmp = dockerfile_env().get("TMPDIR", "/tmp")
        assert tmp in mounts and not mounts[tmp].get("readOnly", False)
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[tmp]["name"])
        assert "emptyDir" in volume
    # a compile cache filled at build time must not be covered by an empty volume
    baked = dockerfile_env().get("JAX_COMPILATION_CACHE_DIR")
    if baked:
        for path in mounts:
            assert not (baked + "/").startswith(path.rstrip("/") + "/"), (
                f"the volume at {path} hides the image's compile cache {baked}")


# --- the pieces fit together ---------------------------------------------------------

def test_the_service_selects_the_pods_and_targets_their_port():
    deployment, service = the("Deployment"), the("Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    assert selector and selector.items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert port_number(port["targetPort"]) == exposed_port()
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    # all state is in the browser and the URL: no sticky sessions
    assert service["spec"].get("sessionAffinity", "None") == "None"


def test_the_hpa_scales_the_deployment_on_cpu():
    deployment, hpa = the("Deployment"), the("HorizontalPodAutoscaler")
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == (
        "apps/v1", "Deployment", deployment["metadata"]["name"])
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    # utilisation is measured against the request; the HPA owns the replica count
    assert cpus(container()["resources"]["requests"]["cpu"]) > 0
    assert "replicas" not in deployment["spec"]


def test_one_gunicorn_worker_per_cpu_of_the_limit():
    env = {e["name"]: e.get("value") for e in container()["env"]}
    resources = container()["resources"]
    workers = int(env["WEB_CONCURRENCY"])
    assert workers == cpus(resources["limits"]["cpu"])
    assert cpus(resources["requests"]["cpu"]) <= cpus(resources["limits"]["cpu"])
    # a worker is ~400 MB after load: the request holds the workers, the limit twice that
    def mebibytes(quantity: str) -> int:
        return int(quantity[:-2]) * {"Mi": 1, "Gi": 1024}[quantity[-2:]]

    assert mebibytes(resources["requests"]["memory"]) >= 400 * workers
    assert mebibytes(resources["limits"]["memory"]) >= 2 * 400 * workers
