package fastpath

import "syscall"

// Inherited lists the file descriptors above stderr that servin was started
// with (3 for `servin ... 3<file`), as this package's init found them,
// before the rest of the program opened anything. The init also marks them
// close-on-exec: servin's helpers and monitors must never keep a caller's
// pipe open (a script waiting for EOF would hang). run and exec
// --preserve-fds pass them on explicitly.
var Inherited = map[int]bool{}

func recordInherited() {
	if _, ok := syscall.Getenv("_LIBCONTAINER_INITPIPE"); ok {
		// This process is a container's init (exec sessions use servin's
		// binary for it): the files it was given are the process's own
		// fds 3, 4, ... (--preserve-fds) and must stay inheritable.
		return
	}
	dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer syscall.Close(dir)
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := syscall.ReadDirent(dir, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		fd := 0
		for _, c := range name {
			if c < '0' || c > '9' {
				fd = -1
				break
			}
			fd = fd*10 + int(c-'0')
		}
		if fd <= 2 || fd == dir {
			continue
		}
		Inherited[fd] = true
		syscall.CloseOnExec(fd)
	}
}
