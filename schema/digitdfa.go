package schema

import (
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// digitDFA is a regular expression of the phone-number metadata compiled
// into a deterministic automaton over the ten ASCII digits, for input that
// holds digits only (a national significant number, a national number). It
// answers what regexp.Regexp.Match answers for the same anchored pattern on
// such input, without the regexp package's per-call work: the automaton is
// built once from the pattern's own compiled program (regexp/syntax, the
// program regexp runs), by the subset construction, so it accepts exactly
// the digit strings that program accepts.
type digitDFA struct {
	// next[s*10+d] is the state after digit d in state s; -1 is the dead
	// state (no thread alive).
	next []int32
	// atEnd[s]: the match instruction is reachable from s at the end of the
	// input; midway[s]: reachable before the end (what an unanchored end
	// needs, as "^(?:p)" tested for a prefix).
	atEnd, midway []bool
}

// maxDFAStates bounds the automaton of one pattern; a pattern that needs
// more is left to the regexp package (newDigitDFA returns nil).
const maxDFAStates = 4096

// newDigitDFA compiles expr (Perl syntax, as regexp.Compile reads it) into
// a digit automaton, or returns nil when expr does not compile or uses what
// the automaton does not model (word boundaries, multi-line anchors), or
// needs more than maxDFAStates states. A nil automaton means: use regexp.
func newDigitDFA(expr string) *digitDFA {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	b := dfaBuilder{prog: prog, index: map[string]int32{}}
	start, ok := b.closure([]uint32{uint32(prog.Start)}, true, false)
	if !ok {
		return nil
	}
	if b.state(start) < 0 {
		return nil
	}
	for s := 0; s < len(b.sets); s++ {
		for d := range 10 {
			var moved []uint32
			for _, pc := range b.sets[s] {
				if matchesDigit(&prog.Inst[pc], rune('0'+d)) {
					moved = append(moved, prog.Inst[pc].Out)
				}
			}
			set, ok := b.closure(moved, false, false)
			if !ok {
				return nil
			}
			id := int32(-1)
			if len(set) > 0 {
				if id = b.state(set); id < 0 {
					return nil
				}
			}
			b.dfa.next[s*10+d] = id
		}
	}
	return &b.dfa
}

type dfaBuilder struct {
	prog  *syntax.Prog
	index map[string]int32
	sets  [][]uint32
	dfa   digitDFA
}

// state returns the id of the state of set (a closure), adding it when new;
// -1 when the automaton would grow beyond maxDFAStates.
func (b *dfaBuilder) state(set []uint32) int32 {
	var key strings.Builder
	for _, pc := range set {
		key.WriteString(strconv.FormatUint(uint64(pc), 36))
		key.WriteByte(',')
	}
	if id, ok := b.index[key.String()]; ok {
		return id
	}
	if len(b.sets) >= maxDFAStates {
		return -1
	}
	id := int32(len(b.sets))
	b.index[key.String()] = id
	b.sets = append(b.sets, set)
	b.dfa.next = append(b.dfa.next, make([]int32, 10)...)
	b.dfa.atEnd = append(b.dfa.atEnd, b.reaches(set, true))
	b.dfa.midway = append(b.dfa.midway, b.reaches(set, false))
	return id
}

// closure follows the empty moves from pcs at one input position (begin:
// the position is the start of the input; end: it is known to be the end)
// and returns the sorted set of instructions that wait for the next digit,
// the match, or, unless end, an end-of-text assertion (decided only when it
// is known whether the input ends there). ok is false for an instruction
// the automaton does not model.
func (b *dfaBuilder) closure(pcs []uint32, begin, end bool) (set []uint32, ok bool) {
	seen := map[uint32]bool{}
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstFail:
		case syntax.InstEmptyWidth:
			switch syntax.EmptyOp(in.Arg) {
			case syntax.EmptyBeginText:
				if begin {
					stack = append(stack, in.Out)
				}
			case syntax.EmptyEndText:
				if end {
					stack = append(stack, in.Out)
				} else {
					set = append(set, pc)
				}
			default:
				return nil, false
			}
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			set = append(set, pc)
		default:
			return nil, false
		}
	}
	slices.Sort(set)
	return set, true
}

// reaches reports whether the match instruction is reachable from set
// without reading a digit, at the end of the input (end) or before it.
func (b *dfaBuilder) reaches(set []uint32, end bool) bool {
	// set is a closure already, so what it holds is modelled and ok.
	reached, _ := b.closure(set, false, end)
	for _, pc := range reached {
		if b.prog.Inst[pc].Op == syntax.InstMatch {
			return true
		}
	}
	return false
}

func matchesDigit(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune, syntax.InstRune1:
		return in.MatchRune(r)
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}

// match reports what regexp's Match reports for the pattern (anchored at
// the start by "^", as every pattern here is) on digits: whether some prefix
// of digits, or the whole where the pattern ends in "$", is accepted.
// digits must hold ASCII digits only.
func match[T []byte | string](a *digitDFA, digits T) bool {
	s := int32(0)
	for i := 0; i < len(digits); i++ {
		if a.midway[s] {
			return true
		}
		if s = a.next[int(s)*10+int(digits[i]-'0')]; s < 0 {
			return false
		}
	}
	return a.atEnd[s]
}
