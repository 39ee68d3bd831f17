package schema_test

import (
	"fmt"

	"crmgate/schema"
)

func ExampleNormalizePhone() {
	for _, in := range []string{"+86 152-6666-7780", "8615266667780", "0086 152 6666 7780", "+1-800-FLOWERS", "+86 1", "+1 202 555 01", "+1 100 555 0199"} {
		digits, verified, err := schema.NormalizePhone(in)
		fmt.Printf("%q → %q verified=%v err=%v\n", in, digits, verified, err)
	}
	// Output:
	// "+86 152-6666-7780" → "8615266667780" verified=true err=<nil>
	// "8615266667780" → "8615266667780" verified=true err=<nil>
	// "0086 152 6666 7780" → "8615266667780" verified=true err=<nil>
	// "+1-800-FLOWERS" → "" verified=false err=a phone number holds digits only (international form, e.g. +86 152 6666 7780)
	// "+86 1" → "" verified=false err=not a phone number: the string supplied is too short to be a phone number
	// "+1 202 555 01" → "" verified=false err=not a possible phone number for its country (wrong length)
	// "+1 100 555 0199" → "11005550199" verified=false err=<nil>
}
