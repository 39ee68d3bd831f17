package nxlink_test

import (
	"fmt"

	"crmgate/providers/nxlink"
)

// The test vector of providers.md: the signed string is
// accessKey=fme2na3kdi3ki&action=mt&bizType=2&ts=1655710885431&body={"a":1}&accessSecret=s3cr3t
func ExampleSign() {
	sign := nxlink.Sign("md5", "fme2na3kdi3ki", "mt", "2", "1655710885431", []byte(`{"a":1}`), "s3cr3t")
	fmt.Println(sign)
	// Output: 3db881c3239d299821dc8cadd40b59c3
}
