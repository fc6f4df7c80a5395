#!/bin/busybox sh
# /init of the kernel tier's initramfs (ci/kernel/kernel_setup.py packs it; docs/kernel-tier.md).
# Loads the modules in the order issue 15 found to work, mounts the host's root read-only over
# virtio-9p (tag hostroot) and a writable output folder (tag out), builds the kernel-sim board
# (ci/kernel/kernel-sim.yaml, bound into the profiles folder here): a gpio-sim bank labelled
# pinctrl-bcm2711 with lines GPIO0..GPIO57 (drivers/gpio/gpio-sim.c configfs), i2c-stub at 0x50,
# /proc/device-tree/model; then chroots and runs $pihil_out/run.sh (written by ci/kernel/run.py).
# The exit code goes back through isa-debug-exit (port 0xf4: QEMU exits with 2*code+1).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

say() { echo "pihil-guest: $*" > /dev/ttyS0; }
leave() {
    code=$1
    say "exit $code"
    # isa-debug-exit: one byte to port 0xf4 (/dev/port, CONFIG_DEVPORT)
    printf "\\$(printf %o "$code")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    poweroff -f
}
die() { say "FAILED: $*"; leave 120; }

for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet \
         9pnet_virtio netfs fscache 9p configfs gpio-sim i2c-dev; do
    insmod /lib/mod/$m.ko || die "insmod $m.ko"
done
insmod /lib/mod/i2c-stub.ko chip_addr=0x50 || die "insmod i2c-stub.ko chip_addr=0x50"

say "modules loaded at $(cut -d' ' -f1 /proc/uptime) s"
H=/mnt/host
mkdir -p $H
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $H \
    || die "mount the host root over 9p (tag hostroot)"
[ -n "$pihil_out" ] || die "no pihil_out= on the kernel command line"

mount -t sysfs sys $H/sys || die "mount sysfs"
mount -t devtmpfs dev $H/dev || die "mount devtmpfs"
mount -t devpts devpts $H/dev/pts 2>/dev/null
# scratch space on /run (TMPDIR, HOME), not /tmp: the host's /tmp stays visible, since a tox
# work dir or the output folder may live there
mount -t tmpfs run $H/run || die "mount a tmpfs on /run"
mkdir -p $H/run/pihil-tmp
mount -t configfs configfs $H/sys/kernel/config || die "mount configfs"

# the kernel-sim profile, in the guest only: a copy of the shipped profiles folder with
# ci/kernel/kernel-sim.yaml added, bound over the folder (the host's tree is not changed)
[ -n "$pihil_repo" ] || die "no pihil_repo= on the kernel command line"
P=$H$pihil_repo/emulator/pihil_emulator/boards/profiles
mkdir -p /profiles && cp $P/*.yaml /profiles/ && cp $H$pihil_repo/ci/kernel/kernel-sim.yaml /profiles/ \
    || die "copy the board profiles from $P"
mount -o bind /profiles $P || die "bind the profiles folder with kernel-sim.yaml"

# gpio-sim: one bank, labelled as the BCM2711's pinctrl so the Linux backend picks it
C=$H/sys/kernel/config/gpio-sim/pihil
mkdir $C $C/bank0 || die "configfs gpio-sim (is gpio-sim.ko loaded?)"
echo pinctrl-bcm2711 > $C/bank0/label
echo 58 > $C/bank0/num_lines
i=0
while [ $i -lt 58 ]; do
    mkdir $C/bank0/line$i
    echo GPIO$i > $C/bank0/line$i/name
    i=$((i + 1))
done
echo 1 > $C/live || die "gpio-sim: live"

# /proc with a device-tree/model: x86 has no device tree, so a tmpfs of links to the real
# procfs plus the one file the Pi's firmware would give
mount -t tmpfs proc-links $H/proc || die "mount tmpfs on /proc"
mkdir $H/proc/.real
mount -t proc proc $H/proc/.real || die "mount procfs"
for e in $(ls -a $H/proc/.real); do
    case $e in .|..) continue ;; esac
    ln -s .real/$e $H/proc/$e
done
mkdir $H/proc/device-tree
printf 'pihil kernel-sim\0' > $H/proc/device-tree/model

# the output share last, so a folder under /tmp or /run is not hidden by the tmpfs mounts
mkdir -p $H$pihil_out 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out $H$pihil_out \
    || die "mount the output folder over 9p (tag out) at $pihil_out"

say "ready at $(cut -d' ' -f1 /proc/uptime) s: $(cat /proc/sys/kernel/osrelease), gpiochip $(ls /sys/bus/gpio/devices | tr '\n' ' ')"
chroot $H /bin/sh "$pihil_out/run.sh"
leave $?
