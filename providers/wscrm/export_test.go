package wscrm

import "crmgate/schema"

// The provider document's example records (convert_test.go), for the tests
// of package wscrm_test (conformance_test.go).

// DocFengChangqing is the document's batchImport example record.
func DocFengChangqing() schema.Customer { return docFengChangqing }

// DocLiHeng is the document's import-pool example record, with its
// cancelTabName only when removeTags (batchImportAppendV2 has none).
func DocLiHeng(removeTags bool) schema.Customer {
	c := docLiHeng
	if !removeTags {
		c.RemoveTags = nil
	}
	return c
}
