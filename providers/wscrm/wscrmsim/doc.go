// Package wscrmsim is an in-memory WSCRM for the sandbox and the tests: the
// three import endpoints and the friend-contact query as the provider
// document describes them, and the sender of the two webhooks WSCRM sends.
//
// It is written from WSCRM's own API document ("Customer Management") and
// the readings providers.md gives of what that document leaves open, not
// from the adapter: its paths, codes, limits, spellings and wire types are
// its own (document.go), so it catches the adapter's mistakes instead of
// sharing them. Of package wscrm it uses only what a sandbox connection is
// made of (wscrm.Name, wscrm.Config and its parts). The adapter does not
// import it.
package wscrmsim
