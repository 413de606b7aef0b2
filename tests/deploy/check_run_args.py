#!/usr/bin/python3
"""deploy/container/run.txt is the one source of the container's run
arguments: the VM test (tests/vm/systemd/test_20_container.py) runs it as
it stands (podman for docker), README.md must show it verbatim, and the
DaemonSet in deploy/kubernetes/guardian.yaml must say the same thing in
Kubernetes' words: every argument is either mapped to its DaemonSet
counterpart and compared, or one of the few named below that a pod has no
use for. An argument this file does not know fails: a new one needs its
counterpart decided here.

    tests/deploy/check_run_args.py [RUN_TXT [DAEMONSET_YAML [README]]]

Prints "ok ..." / "FAIL ..." per check and exits 1 on any failure."""
import os
import shlex
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Result  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Engine-only arguments, and why the DaemonSet has none.
NO_COUNTERPART = {
    "-d": "the engine's detach; the kubelet runs the pod",
    "--name": "the engine's container name; the DaemonSet names its pods",
    "--restart=always": "a DaemonSet's pods restart always (restartPolicy: Always)",
    "--network=none": "a pod has a network namespace of its own (no hostNetwork); "
                      "guardian opens no socket but its Unix ones",
    "--cgroupns=host": "containerd gives the pod a private cgroup namespace; guardian finds "
                       "its own cgroup in the mounted tree (tests/vm/test_85_cgroupns.py)",
}


def parse_run(text):
    """(options as [(name, value)], image, args after the image)."""
    words = shlex.split(text.replace("\\\n", " "))
    if words[:2] != ["docker", "run"]:
        return None
    opts, i = [], 2
    takes_value = {"--name", "-v", "--volume", "--tmpfs", "--cap-add", "--cap-drop", "--security-opt"}
    while i < len(words) and words[i].startswith("-"):
        w = words[i]
        if "=" in w and w.startswith("--"):
            name, value = w.split("=", 1)
        elif w in takes_value:
            name, value = w, words[i + 1]
            i += 1
        else:
            name, value = w, None
        opts.append((name, value))
        i += 1
    return opts, words[i] if i < len(words) else None, words[i + 1:]


def main(argv):
    run_txt = argv[0] if len(argv) > 0 else os.path.join(REPO, "deploy/container/run.txt")
    k8s = argv[1] if len(argv) > 1 else os.path.join(REPO, "deploy/kubernetes/guardian.yaml")
    readme = argv[2] if len(argv) > 2 else os.path.join(REPO, "README.md")
    r = Result("run-args")
    text = open(run_txt).read()
    r.check("README.md shows deploy/container/run.txt verbatim", text in open(readme).read())
    parsed = parse_run(text)
    if not r.check("run.txt is one `docker run` line", parsed is not None):
        return r.finish()
    opts, image, args = parsed

    docs = [d for d in yaml.safe_load_all(open(k8s)) if d]
    ds = next((d for d in docs if d.get("kind") == "DaemonSet"), None)
    if not r.check("the manifest has a DaemonSet", ds is not None):
        return r.finish()
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m.get("mountPath"): m for m in c.get("volumeMounts", [])}
    seen_mounts = set()

    r.check(f"the image: {image}", c.get("image") == image, f"DaemonSet {c.get('image')}")
    r.check(f"the image's own command, no arguments after it ({args})",
            args == [] and c.get("args", []) == [] and "command" not in c,
            f"DaemonSet args {c.get('args')} command {c.get('command')}")
    caps_add = set()
    for name, value in opts:
        key = name if value is None else f"{name}={value}"
        if key in NO_COUNTERPART or name in NO_COUNTERPART:
            r.check(f"{key}: none in a pod ({NO_COUNTERPART.get(key) or NO_COUNTERPART[name]})", True)
        elif key == "--pid=host":
            r.check("--pid=host: hostPID: true", pod.get("hostPID") is True, f"{pod.get('hostPID')}")
        elif name in ("-v", "--volume"):
            src, dst, *rest = value.split(":")
            ro = "ro" in ",".join(rest).split(",")
            m = mounts.get(dst)
            seen_mounts.add(dst)
            if not r.check(f"-v {value}: a volumeMount at {dst}", m is not None, f"mounts {sorted(mounts)}"):
                continue
            vol = volumes.get(m["name"], {})
            if "configMap" in vol:
                # The policy: a ConfigMap in the cluster, the host's directory here.
                r.check(f"-v {value}: the policy ConfigMap, read-only",
                        dst == "/etc/guardian/policy.d" and ro and m.get("readOnly") is True,
                        f"readOnly {m.get('readOnly')}")
            else:
                hp = vol.get("hostPath", {}).get("path")
                r.check(f"-v {value}: hostPath {src}, {'read-only' if ro else 'read-write'}",
                        hp == src and bool(m.get("readOnly", False)) == ro,
                        f"hostPath {hp} readOnly {m.get('readOnly')}")
                rslave = "rslave" in ",".join(rest).split(",")
                r.check(f"-v {value}: {'rslave is' if rslave else 'no propagation is'} "
                        f"mountPropagation {'HostToContainer' if rslave else 'None'}",
                        m.get("mountPropagation", "None") == ("HostToContainer" if rslave else "None"),
                        f"mountPropagation {m.get('mountPropagation')}")
        elif name == "--tmpfs":
            dst = value.split(":")[0]
            m = mounts.get(dst)
            seen_mounts.add(dst)
            vol = volumes.get(m["name"], {}) if m else {}
            r.check(f"--tmpfs {value}: an emptyDir in memory at {dst}",
                    vol.get("emptyDir", {}).get("medium") == "Memory", f"{vol}")
        elif key == "--cap-drop=ALL":
            r.check("--cap-drop=ALL: capabilities.drop [ALL]",
                    sc.get("capabilities", {}).get("drop") == ["ALL"], f"{sc.get('capabilities')}")
        elif name == "--cap-add":
            caps_add.add(value)
        elif key == "--security-opt=no-new-privileges":
            r.check("no-new-privileges: allowPrivilegeEscalation: false",
                    sc.get("allowPrivilegeEscalation") is False)
        elif key == "--security-opt=apparmor=unconfined":
            r.check("apparmor=unconfined: appArmorProfile Unconfined",
                    sc.get("appArmorProfile", {}).get("type") == "Unconfined", f"{sc.get('appArmorProfile')}")
        elif key == "--read-only":
            r.check("--read-only: readOnlyRootFilesystem: true", sc.get("readOnlyRootFilesystem") is True)
        else:
            r.check(f"{key}: a DaemonSet counterpart known to this check", False,
                    "map it here (tests/deploy/check_run_args.py) or name why a pod has none")
    r.check(f"--cap-add {sorted(caps_add)}: capabilities.add, the same set",
            caps_add and caps_add == set(sc.get("capabilities", {}).get("add", [])),
            f"DaemonSet {sc.get('capabilities', {}).get('add')}")
    extra = set(mounts) - seen_mounts
    r.check("the DaemonSet mounts nothing the run line does not", not extra, f"{sorted(extra)}")
    r.check("the DaemonSet is not privileged", sc.get("privileged") is False)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
