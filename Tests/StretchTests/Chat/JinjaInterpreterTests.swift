import Foundation
import XCTest

import Stretch

/// Focused interpreter tests; expected strings were checked against jinja2 3.1 by hand.
final class JinjaInterpreterTests: XCTestCase {
    private func render(_ source: String, _ context: [String: JinjaValue] = [:]) throws -> String {
        try JinjaTemplate(source: source).render(context, now: Date(timeIntervalSince1970: 0),
            timeZone: TimeZone(identifier: "UTC")!)
    }

    private func assertError(
        _ source: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try render(source), file: file, line: line) { error in
            XCTAssertEqual(String(describing: error), expected, file: file, line: line)
        }
    }

    func testPythonReprPrinting() throws {
        XCTAssertEqual(try render("{{ none }} {{ true }} {{ 1.0 }} {{ 0.1 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 100.0 }}"),
            "None True 1.0 0.1 1e+16 1.5e-07 100.0")
        XCTAssertEqual(try render("{{ ['a', \"it's\", 1, none] }} {{ {'k': (1,)} }}"),
            "['a', \"it's\", 1, None] {'k': (1,)}")
        XCTAssertEqual(try render("{{ 'tab\\there' | list | first }}{{ ['\\n'] }}"), "t['\\n']")
    }

    func testWhitespaceControl() throws {
        XCTAssertEqual(try render("a\n  {% if true %}\nb\n  {% endif %}\nc"), "a\nb\nc")
        XCTAssertEqual(try render("a  {{- 'x' -}}  \n b"), "axb")
        XCTAssertEqual(try render("  {%+ if true %}x{% endif +%}\ny"), "  x\ny")
        XCTAssertEqual(try render("{# c #}\n  {# c2 -#}   z\n"), "z")
        XCTAssertEqual(try render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}")
    }

    func testUndefinedSemantics() throws {
        XCTAssertEqual(try render("[{{ x }}]{{ x is defined }}{{ x | length }}{% for i in x %}no{% endfor %}"),
            "[]False0")
        XCTAssertEqual(try render("{{ d.missing is defined }}", ["d": .object([])]), "False")
        XCTAssertThrowsError(try render("{{ x.y }}"))
        XCTAssertThrowsError(try render("{{ x + 1 }}"))
    }

    func testScopingAndNamespaces() throws {
        XCTAssertEqual(try render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}"), "1")
        XCTAssertEqual(try render("{% set ns = namespace(x=1) %}{% for i in [1] %}{% set ns.x = 2 %}{% endfor %}"
            + "{{ ns.x }}"), "2")
        XCTAssertEqual(try render("{% macro m(a, b='d') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}"),
            "1d12")
    }

    func testLoopControls() throws {
        XCTAssertEqual(try render("{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}"
            + "{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "024")
        XCTAssertEqual(try render("{% for a, b in {'x': 1}.items() %}{{ a }}{{ b }}{{ loop.length }}{% endfor %}"),
            "x11")
    }

    func testStrftime() throws {
        XCTAssertEqual(try render("{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %j %p') }}"),
            "1970-01-01 00:00:00 Thu Jan 001 AM")
    }

    func testErrorsNameConstructAndPosition() {
        assertError("ab\n{{ x | foo }}", "unknown filter 'foo' at 2:8")
        assertError("{{ 1 is frob }}", "unknown test 'frob' at 1:9")
        assertError("{% include 'x' %}", "unknown tag 'include' at 1:4")
        assertError("{% if %}", "syntax error: expected an expression, got '%}' at 1:7")
        assertError("{% for x in y %}", "syntax error: unexpected end of template, expected 'else' or 'endfor' at 1:17")
        assertError("\n  {{ raise_exception('bad role') }}", "template raised exception: bad role at 2:21")
        XCTAssertEqual(try render("{{ 'a'.format(1) }}"), "a")  // jinja2: extra format arguments are ignored
        assertError("{{ [1].append(2) }}",
            "method 'append' of list is not supported (the immutable sandbox forbids mutation) at 1:14")
        XCTAssertThrowsError(try render("{{ x }")) { error in
            guard case JinjaError.syntax = error else { return XCTFail("expected syntax error, got \(error)") }
        }
    }

    func testFiltersAndTojson() throws {
        XCTAssertEqual(try render("{{ {'a': [1, 'é']} | tojson }}|{{ {'a': 1} | tojson(indent=2) }}"),
            "{\"a\": [1, \"é\"]}|{\n  \"a\": 1\n}")
        XCTAssertEqual(try render("{{ 'x' | tojson(ensure_ascii=true) }}{{ 'é' | tojson(ensure_ascii=true) }}"),
            "\"x\"\"\\u00e9\"")
        XCTAssertEqual(try render("{{ [3, 1] | sort | join(',') }} {{ 'aBc' | upper }} {{ 2.5 | round }}"),
            "1,3 ABC 2.0")
    }

    /// jinja2: `ENV.from_string(t).render()` with the HF environment of scripts/chat_template_fixtures.py.
    func testNestedBracesInsidePrintTag() throws {
        // {{ {'name': 'f', 'arguments': {'a': [1, {'b': 2}]}} | tojson }}|{{ [{'a': {'b': 1}}][0].a.b }}
        XCTAssertEqual(
            try render("{{ {'name': 'f', 'arguments': {'a': [1, {'b': 2}]}} | tojson }}|{{ [{'a': {'b': 1}}][0].a.b }}"),
            "{\"name\": \"f\", \"arguments\": {\"a\": [1, {\"b\": 2}]}}|1")
        assertError("{{ (1, 2] }}", "syntax error: unexpected ']', expected ')' at 1:9")
    }

    /// jinja2 renders these as shown (printf-style `%` on strings).
    func testPrintfStyleFormatting() throws {
        XCTAssertEqual(try render("{{ \"%s-%d-%05.2f|%-4s|%x|%%|%r\" % ('a', 3, 2.5, 'b', 255, 'q') }}"
            + "|{{ '%(n)s' % {'n': 'k'} }}|{{ '%s' % [1, 2] }}"), "a-3-02.50|b   |ff|%|'q'|k|[1, 2]")
        XCTAssertThrowsError(try render("{{ '%s %s' % ('a',) }}"))  // jinja2: not enough arguments
        XCTAssertThrowsError(try render("{{ '%d' % 'x' }}"))  // jinja2: a real number is required
    }

    /// jinja2: `"1 and b|aa{x}|'v'|x  |..x|-005"`.
    func testStrFormatAndPadding() throws {
        XCTAssertEqual(try render("{{ '{} and {}'.format(1, 'b') }}|{{ '{0}{0}{{x}}'.format('a') }}|"
            + "{{ '{k!r}'.format(k='v') }}|{{ 'x'.ljust(3) }}|{{ 'x'.rjust(3, '.') }}|{{ '-5'.zfill(4) }}"),
            "1 and b|aa{x}|'v'|x  |..x|-005")
    }

    /// A template from an untrusted GGUF cannot recurse, loop or grow without bound: each runaway is a typed
    /// error naming the limit and the place, within seconds and without a large allocation (jinja2 itself
    /// would overflow Python's stack, hang, or exhaust memory on these).
    func testRunawayTemplatesHitLimitsNotTheMachine() throws {
        let start = Date()
        assertError("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
                    "macro 'f' nests deeper than 64 calls (endless recursion?) at 1:20")
        assertError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                    "the template ran more than 500000 steps (an enormous loop?) at 1:32")
        assertError("{{ 'x' * 100000000000 }}",
                    "the result would be 100000000000 bytes, more than the 16777216-byte limit of a render at 1:8")
        assertError("{{ 'x' * 9223372036854775807 }}",
                    "the result would be 9223372036854775807 bytes, more than the 16777216-byte limit of a render at 1:8")
        assertError("{{ [1, 2] * 1000000 }}",
                    "the result would have 2000000 items, more than the 1048576-item limit of a render at 1:11")
        XCTAssertThrowsError(try render(
            "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"))
        XCTAssertThrowsError(try render("{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}")) { error in
            XCTAssertTrue(String(describing: error).contains("16777216-byte limit"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        // Ordinary recursion and loops stay well inside the limits.
        XCTAssertEqual(try render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(20) }}"),
                       (1...20).reversed().map(String.init).joined())
    }
}
