package contract_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"crmgate/internal/testbrowser"
)

// TestSwaggerUITryItOut opens Swagger UI in headless Chromium, authorizes
// with the sandbox's printed token, runs POST /v1/customers with its first
// example through "Try it out", and reads a 200 with a succeeded record off
// the page. The screenshot goes to .ci/out/swagger-try-it-out.png.
func TestSwaggerUITryItOut(t *testing.T) {
	t.Parallel()
	alloc := testbrowser.Allocator(t, 1280, 1800, 2*time.Minute)
	g := startGateway(t, nil)

	ctx, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()

	const op = `#operations-customers-importCustomers`
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/swagger/index.html"),
		chromedp.WaitVisible(css(`.swagger-ui .info .title`)),
		chromedp.Click(css(`.swagger-ui .auth-wrapper .btn.authorize`)),
		chromedp.WaitVisible(css(`.modal-ux .auth-container input`)),
		chromedp.SendKeys(css(`.modal-ux .auth-container input`), g.Token),
		chromedp.Click(css(`.modal-ux .auth-btn-wrapper .btn.authorize`)),
		chromedp.WaitVisible(css(`.modal-ux .auth-btn-wrapper .btn-done`)),
		chromedp.Click(css(`.modal-ux .auth-btn-wrapper .btn-done`)),
		chromedp.Click(css(op+` .opblock-summary`)),
		chromedp.WaitVisible(css(op+` .try-out__btn`)),
		chromedp.Click(css(op+` .try-out__btn`)),
		chromedp.WaitVisible(css(op+` .btn.execute`)),
		chromedp.Click(css(op+` .btn.execute`)),
		chromedp.WaitVisible(css(op+` .live-responses-table tr.response .response-col_status`)),
		chromedp.ScrollIntoView(css(op+` .live-responses-table`)),
	)
	var title, status, body string
	if err == nil {
		title, err = chromedp.Run(ctx, chromedp.Text(css(`.swagger-ui .info .title`)))
	}
	if err == nil {
		status, err = chromedp.Run(ctx, chromedp.Text(css(op+` .live-responses-table tr.response .response-col_status`)))
	}
	if err == nil {
		body, err = chromedp.Run(ctx, chromedp.Text(css(op+` .live-responses-table tr.response .response-col_description`)))
	}
	if shot, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
		testbrowser.SaveArtifact(t, "swagger-try-it-out.png", shot)
	}
	if err != nil {
		t.Fatalf("driving Swagger UI: %v", err)
	}
	if !strings.Contains(title, "crmgate") {
		t.Errorf("title %q", title)
	}
	if strings.TrimSpace(status) != "200" {
		t.Errorf("Try it out answered %q: %s", status, body)
	}
	for _, want := range []string{`"succeeded": 1`, `"status": "succeeded"`, `"connection": "sandbox-nxlink"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the response shown lacks %s: %s", want, body)
		}
	}
}
