"""Installs the ropecheck package with the C++ core built by the project's CMake.

    cmake --preset release && cmake --build --preset release      (from the repository root)
    /usr/bin/python3 -m venv --system-site-packages .venv           (Debian's numpy and torch)
    .venv/bin/pip install --no-build-isolation python/

(Debian 12 marks /usr/bin/python3 externally managed, PEP 668: a bare `/usr/bin/python3 -m pip
install` is refused there unless given --break-system-packages.)

The core (ropecheck/_core*.so) is taken from ROPECHECK_BUILD_DIR (default: build/release of the
repository this folder belongs to); when it is not there, CMake is run to build it (the
ropecheck_python target of the release preset).  Nothing is downloaded.
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def built_core():
    build = os.environ.get("ROPECHECK_BUILD_DIR", os.path.join(ROOT, "build", "release"))
    found = glob.glob(os.path.join(build, "python", "ropecheck", "_core*.so"))
    if not found:
        if not os.path.exists(os.path.join(ROOT, "CMakePresets.json")):
            sys.exit("ropecheck: the C++ core is not built and no ropecheck source tree is around this folder; "
                     "set ROPECHECK_BUILD_DIR to a build directory")
        subprocess.check_call(["cmake", "--preset", "release", f"-DPython_EXECUTABLE={sys.executable}"], cwd=ROOT)
        subprocess.check_call(["cmake", "--build", "--preset", "release", "--target", "ropecheck_python"], cwd=ROOT)
        found = glob.glob(os.path.join(build, "python", "ropecheck", "_core*.so"))
    if not found:
        sys.exit(f"ropecheck: no _core*.so under {build}/python/ropecheck after the build")
    return found[0]


class BuildPy(build_py):
    def run(self):
        super().run()
        core = built_core()
        # The core and the plugin `ropecheck repro` loads for Python kernels.
        for lib in glob.glob(os.path.join(os.path.dirname(core), "*.so")):
            shutil.copy2(lib, os.path.join(self.build_lib, "ropecheck", os.path.basename(lib)))


setup(cmdclass={"build_py": BuildPy}, package_data={"ropecheck": ["*.so"]}, zip_safe=False)
