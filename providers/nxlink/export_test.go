package nxlink

// The internal tests' helpers, for the tests of package nxlink_test, which
// run the adapter against nxlinksim (a package that imports this one).
var (
	TestConfig     = testConfig
	NewTestAdapter = newTestAdapter
	PlanOne        = planOne
	Records        = records
	TwoCustomers   = twoCustomers
	DocCustomers   = docCustomers
	DocSign        = docSign
	UserMessage    = userMessage
	ImportOp       = importOp
)
