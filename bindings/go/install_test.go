package cairn

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The module used the way a user outside the repository uses it: the
// library installed with `cmake --install` into a staging prefix, this
// module copied to a temporary directory (no repository around it), and a
// program in another module that requires it, built with -tags
// cairn_pkgconfig and PKG_CONFIG_PATH only (no CGO_* flags), then run
// without LD_LIBRARY_PATH.
func TestModuleBuildsOutsideTheRepositoryAgainstTheInstalledLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program; skipped with -short")
	}
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "build", "lib", "libcairn.so")); err != nil {
		t.Skipf("no built library (run make lib): %v", err)
	}
	for _, tool := range []string{"cmake", "pkg-config", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	work := t.TempDir()
	stage := filepath.Join(work, "stage")
	env := cleanEnv(
		"PKG_CONFIG_PATH="+filepath.Join(stage, "lib", "pkgconfig"),
		"CGO_ENABLED=1", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off")

	// 1. Install: only the install rules (no tests, no examples).
	run(t, root, env, "cmake", "-S", root, "-B", filepath.Join(work, "cmake"),
		"-DCAIRN_BUILD_TESTS=OFF", "-DCAIRN_BUILD_EXAMPLES=OFF")
	run(t, root, env, "cmake", "--install", filepath.Join(work, "cmake"), "--prefix", stage)

	// 2. The module, copied without its tests.
	mod := filepath.Join(work, "cairn-go")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, "_test.go") ||
			!(strings.HasSuffix(name, ".go") || name == "go.mod" || name == "cairn.h") {
			continue
		}
		copyFile(t, name, filepath.Join(mod, name))
	}

	// 3. A program in its own module.
	app := filepath.Join(work, "app")
	writeFile(t, filepath.Join(app, "go.mod"), "module example.com/app\n\ngo 1.19\n\n"+
		"require cairn.dev/cairn v0.0.0\n\nreplace cairn.dev/cairn => ../cairn-go\n")
	writeFile(t, filepath.Join(app, "main.go"), `package main

import (
	"fmt"
	"os"
	"time"

	"cairn.dev/cairn"
)

func main() {
	db, err := cairn.Open(os.Args[1], &cairn.Options{Sync: "never"})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer db.Close()
	if err := db.Put([]byte("k"), []byte("v")); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	v, err := db.Get([]byte("k"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	users := db.Collection("users")
	if _, err := users.InsertOne(cairn.D{{Key: "name", Value: "ann"}, {Key: "at", Value: at}}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var doc struct {
		Name string    `+"`json:\"name\"`"+`
		At   time.Time `+"`json:\"at\"`"+`
	}
	if err := users.FindOne(map[string]any{"at": at}, nil).Decode(&doc); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("installed: %s %s %s\n", v, doc.Name, doc.At.Format(time.RFC3339))
}
`)
	bin := filepath.Join(work, "app-bin")
	run(t, app, env, "go", "build", "-tags", "cairn_pkgconfig", "-o", bin, ".")
	out := run(t, app, env, bin, filepath.Join(work, "db"))
	if want := "installed: v ann 2026-12-06T08:00:00Z"; strings.TrimSpace(out) != want {
		t.Fatalf("the program printed %q, want %q", out, want)
	}
}

// cleanEnv is the environment without the variables that would let a
// broken install pass (library paths, cgo flags), plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name := kv[:strings.IndexByte(kv, '=')+1]
		switch name {
		case "LD_LIBRARY_PATH=", "CGO_CFLAGS=", "CGO_LDFLAGS=", "PKG_CONFIG_PATH=", "GOFLAGS=":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
