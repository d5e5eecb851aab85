#!/bin/sh
# Installs edgeprune on CPU into the current Python: `sh docker/install_pipeline.sh [PROJECT_DIR]`.
set -eu
PIP="${PIP:-python3 -m pip}"
# torch first, exactly 2.13.0 and from PyTorch's CPU index: the default Linux wheel on PyPI
# is the CUDA build (GBs), and a looser spec resolved later would pull it too.
$PIP install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
$PIP install --no-cache-dir "${1:-.}"
