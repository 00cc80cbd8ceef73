//go:build !cairn_pkgconfig

package cairn

// Linking inside the Cairn repository (the default): cairn.h from this
// directory, libcairn.so from the repository's build/lib (built by
// `make lib`), found at run time through an rpath, so that plain
// `go test ./...` works here, and so does a module that points at this
// directory with a replace directive. Build with -tags cairn_pkgconfig to
// link an installed library instead (cgo_pkgconfig.go).

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -Wl,-rpath,${SRCDIR}/../../build/lib -lcairn
*/
import "C"
