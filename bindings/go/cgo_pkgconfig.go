//go:build cairn_pkgconfig

package cairn

// Linking an installed library (go build -tags cairn_pkgconfig): the flags
// come from cairn.pc, which `cmake --install` writes with an rpath to the
// installed lib directory; set PKG_CONFIG_PATH when it is not a standard
// prefix. cairn.h is still this module's copy (identical to the installed
// one; header_test.go keeps it identical to include/cairn.h).

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo pkg-config: cairn
*/
import "C"
