#!/bin/sh
# Builds what an aarch64 "board" needs to run edgeprune's device runner.
#
#   setup_board.sh rootfs ROOT   on any Linux host (x86-64 here): a Debian bookworm arm64
#                                root filesystem with Python 3.11 and the aarch64 wheels,
#                                run later through qemu-aarch64-static -L ROOT.
#   setup_board.sh image         inside an arm64 image (docker/board/Dockerfile): the same
#                                wheels, installed natively, plus openssh-server.
#   setup_board.sh serve         that image's entrypoint: host keys, then sshd in the foreground.
#
# Needs (rootfs): debootstrap, a python3 with pip, network access to Debian and PyPI.
# The pins below are the versions the host side of edgeprune is tested with.
set -eu

ONNXRUNTIME_VERSION=1.31.1
LITERT_VERSION=2.3.0
NUMPY_SPEC="numpy>=2.0,<2.5"
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PIP=${PIP:-python3 -m pip}

log() { echo "setup_board: $*" >&2; }

# pip resolves for the board's platform, not the host's: aarch64, CPython 3.11.
install_wheels() {  # TARGET_DIR [extra pip args...]
    target=$1; shift
    $PIP install --quiet --disable-pip-version-check --no-warn-conflicts --no-compile "$@" \
        --target "$target" \
        "onnxruntime==$ONNXRUNTIME_VERSION" "ai-edge-litert==$LITERT_VERSION" "$NUMPY_SPEC"
}

# onnxruntime's cpuinfo library crashes at import on the host's x86 /proc/cpuinfo; qemu's
# -L prefix makes the emulated process read this file instead (a 4-core Cortex-A72, a Pi 4).
write_arm_cpuinfo() {  # PATH
    : > "$1"
    for n in 0 1 2 3; do
        cat >> "$1" <<EOF
processor	: $n
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

EOF
    done
    # Every measurement records these (cpu, board): an emulated latency never passes as real.
    echo "Model		: $EMULATED_NAME" >> "$1"
}

EMULATED_NAME="QEMU-emulated aarch64 board (edgeprune; latencies are emulation times)"

build_rootfs() {  # ROOT
    root=$1
    if [ -e "$root/.edgeprune-board" ]; then
        log "$root is already built"; return 0
    fi
    mkdir -p "$root"
    # --foreign: download and unpack only; the second stage would need to run arm64
    # maintainer scripts. Plain extraction of every .deb is enough to run Python.
    log "debootstrap $SUITE arm64 into $root"
    debootstrap --variant=minbase --arch=arm64 --foreign --include=python3 \
        "$SUITE" "$root" "$MIRROR" >&2
    for deb in "$root"/var/cache/apt/archives/*.deb; do
        dpkg-deb -x "$deb" "$root"
    done
    # Package indexes, docs and translations: never read on the board, about 70 MB.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root/debootstrap" "$root"/var/lib/apt/lists \
        "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale

    site="$root/usr/local/lib/python3.11/dist-packages"
    log "aarch64 wheels into $site"
    # pip (23.x) matches --platform tags exactly: list every glibc level the wheels use.
    install_wheels "$site" --only-binary=:all: --platform manylinux_2_28_aarch64 \
        --platform manylinux_2_27_aarch64 --platform manylinux_2_17_aarch64 \
        --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp --abi cp311

    mkdir -p "$root/proc"
    write_arm_cpuinfo "$root/proc/cpuinfo"
    mkdir -p "$root/proc/device-tree"
    printf '%s' "$EMULATED_NAME" > "$root/proc/device-tree/model"
    printf 'onnxruntime=%s\nai-edge-litert=%s\n' "$ONNXRUNTIME_VERSION" "$LITERT_VERSION" \
        > "$root/.edgeprune-board"
    log "done: $(du -sh "$root" | cut -f1)"
}

# Inside an arm64 image the image itself is the board's root filesystem.
setup_image() {
    apt-get update
    apt-get install -y --no-install-recommends openssh-server
    rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*  # host keys are made at first start
    mkdir -p /run/sshd /root/.ssh
    install_wheels "$(python3 -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    # Docker on x86-64 runs this image through binfmt qemu-user, whose /proc/cpuinfo is the
    # host's: a QEMU_LD_PREFIX holding only proc/cpuinfo serves the ARM one (every other
    # path falls through to the image), and QEMU_CPU emulates the Cortex-A72 it describes
    # (qemu's default `max` CPU has SME, whose int8 kernels in XNNPACK answer garbage under
    # qemu 7.2; see pipeline/board/rootfs.py). Native arm64 ignores both variables.
    prefix=/opt/edgeprune/qemu-prefix
    mkdir -p "$prefix/proc/device-tree"
    write_arm_cpuinfo "$prefix/proc/cpuinfo"
    printf '%s' "$EMULATED_NAME" > "$prefix/proc/device-tree/model"
    cat > /etc/ssh/sshd_config.d/edgeprune.conf <<EOF
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
SetEnv QEMU_LD_PREFIX=$prefix QEMU_CPU=cortex-a72
EOF
}

# The container's foreground process: host keys on first start, then sshd.
serve() {
    if [ -n "${AUTHORIZED_KEY:-}" ]; then
        echo "$AUTHORIZED_KEY" >> /root/.ssh/authorized_keys
    fi
    if [ ! -s /root/.ssh/authorized_keys ]; then
        echo "board: no login key; run with -e AUTHORIZED_KEY=\"\$(cat ~/.ssh/id_ed25519.pub)\"" >&2
        exit 2
    fi
    ssh-keygen -A >&2
    exec /usr/sbin/sshd -D -e
}

case "${1:-}" in
    rootfs) [ $# -eq 2 ] || { echo "usage: $0 rootfs ROOT" >&2; exit 2; }; build_rootfs "$2" ;;
    image) setup_image ;;
    serve) serve ;;
    *) echo "usage: $0 rootfs ROOT | image | serve" >&2; exit 2 ;;
esac
