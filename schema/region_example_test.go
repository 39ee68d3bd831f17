package schema_test

import (
	"fmt"

	"crmgate/schema"
)

func ExampleNormalizePhoneIn() {
	for _, in := range []string{"152 6666 7780", "0152 6666 7780", "+44 20 7946 0000", "0044 20 7946 0000"} {
		digits, _, err := schema.NormalizePhoneIn(in, "CN")
		fmt.Println(digits, err)
	}
	_, _, err := schema.NormalizePhoneIn("152 6666 7780", "XX")
	fmt.Println(err)
	// Output:
	// 8615266667780 <nil>
	// 8615266667780 <nil>
	// 442079460000 <nil>
	// 442079460000 <nil>
	// region "XX": not a known ISO 3166-1 alpha-2 region
}
