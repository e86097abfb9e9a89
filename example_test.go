package servin_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/servin/servin"
	"github.com/servin/servin/test/testimage"
)

// Set by TestMain: where the example keeps its state and finds servin's
// binaries (built by `make build`).
var root, runRoot, monitorPath, servinPath, cniDir string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "bin")
	servinPath, monitorPath = filepath.Join(bin, "servin"), filepath.Join(bin, "servin-monitor")
	cniDir = filepath.Join(bin, "cni")
	if os.Geteuid() != 0 {
		fmt.Println("skipping servin examples: they run containers and need root")
		os.Exit(0)
	}
	for _, p := range []string{servinPath, monitorPath} {
		if _, err := os.Stat(p); err != nil {
			fmt.Printf("servin examples need %s: run `make build` first\n", p)
			os.Exit(1)
		}
	}
	tmp, err := os.MkdirTemp("", "servin-example-")
	if err != nil {
		panic(err)
	}
	root, runRoot = filepath.Join(tmp, "root"), filepath.Join(tmp, "run")
	if err := importBusybox(); err != nil {
		fmt.Println("preparing the busybox image:", err)
		os.Exit(1)
	}
	code := m.Run()
	exec.Command(servinPath, "--root", root, "--runroot", runRoot, "rm", "-af").Run()
	exec.Command("umount", "-R", filepath.Join(root, "storage", "overlay")).Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func importBusybox() error {
	tar := filepath.Join(filepath.Dir(root), "rootfs.tar")
	if err := testimage.WriteRootfsTar(tar); err != nil {
		return err
	}
	out, err := exec.Command(servinPath, "--root", root, "--runroot", runRoot, "import", tar, "busybox").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// Create and run a container from Go, with its output on our stdout.
func Example() {
	ctx := context.Background()
	rt, err := servin.New(ctx,
		servin.WithRoot(root), servin.WithRunRoot(runRoot),
		servin.WithMonitorPath(monitorPath), servin.WithRuntimePath(servinPath),
		servin.WithCNIPluginDir(cniDir),
		servin.WithOCIRuntimePath(filepath.Join(filepath.Dir(servinPath), "servin-runtime")))
	if err != nil {
		panic(err)
	}
	defer rt.Close()

	ctr, err := rt.Create(ctx, &servin.CreateOptions{
		Image:   "busybox",
		Command: []string{"sh", "-c", "echo hello from a container; exit 3"},
	})
	if err != nil {
		panic(err)
	}
	code, err := rt.Start(ctx, ctr.ID, servin.StartOptions{
		Attach: &servin.AttachStreams{Stdout: os.Stdout, Stderr: os.Stderr},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("exit code:", code)
	if _, err := rt.Remove(ctx, ctr.ID, servin.RemoveOptions{}); err != nil {
		panic(err)
	}
	// Output:
	// hello from a container
	// exit code: 3
}
