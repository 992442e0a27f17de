"""Only what pyproject.toml cannot say: ship ``samples/`` as ``apisec_samples``."""

from setuptools import find_packages, setup

packages = find_packages(include=["wssec*", "rest*", "compare*"])
packages += ["apisec_samples"] + [f"apisec_samples.{p}" for p in find_packages(where="samples")]

setup(packages=packages, package_dir={"apisec_samples": "samples"})
