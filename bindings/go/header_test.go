package cairn

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// repoRoot returns the Cairn repository this package sits in (two levels
// up, holding include/cairn.h), or skips the test when the module was
// copied out of it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "include", "cairn.h")); err != nil {
		t.Skipf("not inside the Cairn repository (%v)", err)
	}
	return root
}

// The module carries cairn.h so that it builds outside the repository; the
// copy must be the repository's header byte for byte.
func TestHeaderCopyIsIdenticalToInclude(t *testing.T) {
	root := repoRoot(t)
	want, err := os.ReadFile(filepath.Join(root, "include", "cairn.h"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("cairn.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("bindings/go/cairn.h differs from include/cairn.h: run `make go-header` and commit the copy")
	}
}
