"""The ropecheck_gate fixture in a pytest run of its own: options, failure text, JUnit XML."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

TEST_FILE = '''
import ropecheck
from examples import torch_ropes as tr

SPEC = ropecheck.spec({"head_dim": 32, "rope_theta": 10000})

def test_good(ropecheck_gate):
    ropecheck_gate(ropecheck.torch_kernel(tr.hf_rope), SPEC, "hf_fp32")

def test_broken(ropecheck_gate):
    ropecheck_gate(ropecheck.torch_kernel(tr.hf_rope_bf16_inv_freq), SPEC, "hf_fp32",
                   properties=["agreesWithExactReferenceWithinContract"])
'''


def test_fixture_reports_the_shrunk_case_and_repro_line_in_junit(tmp_path):
    (tmp_path / "test_rope.py").write_text(TEST_FILE)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["ropecheck.pytest_plugin"]\n')
    junit = tmp_path / "junit.xml"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path),
                        "--ropecheck-seed", "3", "--ropecheck-budget", "0.5",
                        "--ropecheck-out-dir", str(tmp_path / "failures"), f"--junitxml={junit}"],
                       capture_output=True, text=True, env=env, timeout=170, cwd=tmp_path)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "agreesWithExactReferenceWithinContract" in out and "reproduce: /usr/bin/python3 -m ropecheck repro" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["test_good"].find("failure") is None
    failure = cases["test_broken"].find("failure")
    assert failure is not None and "reproduce:" in (failure.get("message", "") + (failure.text or ""))
    assert any(f.startswith("hf_rope_bf16_inv_freq__") for f in os.listdir(tmp_path / "failures"))
