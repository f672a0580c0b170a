//go:build linux

package documents

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limitAddressSpace caps this process's virtual address space at what it
// already uses plus extra bytes. The Go runtime reserves address space at
// start, so an absolute cap would be wrong on one machine and useless on
// another; the increment is what a parse may add. When an allocation hits
// the cap, mmap fails and the runtime exits with "out of memory".
func limitAddressSpace(extra int64) error {
	base, err := vmSize()
	if err != nil {
		return err
	}
	lim := uint64(base + extra)
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
}

// vmSize reads this process's current virtual size from /proc.
func vmSize() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmSize %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmSize in /proc/self/status")
}

// hardMemoryLimit reports whether the memory limit is enforced by the kernel.
const hardMemoryLimit = true
