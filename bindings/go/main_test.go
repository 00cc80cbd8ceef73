package cairn

import (
	"fmt"
	"os"
	"testing"
)

// helperOpenEnv makes the test binary act as a second process that opens
// the directory it names and reports the status (see TestOpenBusy).
const helperOpenEnv = "CAIRN_TEST_HELPER_OPEN"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperOpenEnv); dir != "" {
		db, err := Open(dir, nil)
		fmt.Println(statusOf(err))
		if db != nil {
			db.Close()
		}
		os.Exit(0)
	}
	code := m.Run()
	if conformanceRun > 0 {
		// One line every runner prints, so the counts can be compared.
		fmt.Printf("conformance: %d cases passed\n", conformancePassed)
		if failed := conformanceRun - conformancePassed; failed > 0 {
			fmt.Printf("conformance: %d cases FAILED\n", failed)
		}
	}
	os.Exit(code)
}
