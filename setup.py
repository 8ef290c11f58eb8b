"""Package layout: one import namespace, ``ckgrec``.

The stage folders stay at the top of the repository (``kgbuild/``, ``model/``, ``schemas/``) but
install as ``ckgrec.kgbuild``, ``ckgrec.model`` and ``ckgrec.schemas``, so that no top-level name
but ``ckgrec`` lands in site-packages (``tests/test_packaging.py`` checks a built wheel). Every
other setting is in ``pyproject.toml``; this file only computes the package list, which
``pyproject.toml`` cannot express for folders mapped under another package.
"""

from setuptools import find_packages, setup

PACKAGE_DIRS = {"ckgrec": "ckgrec", "ckgrec.kgbuild": "kgbuild", "ckgrec.model": "model", "ckgrec.schemas": "schemas"}

packages = []
for name, folder in PACKAGE_DIRS.items():
    packages += [name, *(f"{name}.{sub}" for sub in find_packages(folder))]

setup(packages=packages, package_dir=PACKAGE_DIRS)
