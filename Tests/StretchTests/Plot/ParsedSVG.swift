import Foundation
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An SVG parsed with Foundation's `XMLParser`: proves it is well-formed XML and lists its elements.
struct ParsedSVG {
    struct Element {
        let name: String
        let attributes: [String: String]
        /// Ids of the enclosing `<g>` groups, outermost first.
        let groups: [String]
        var text = ""

        func number(_ key: String) -> Double? { attributes[key].flatMap(Double.init) }
    }

    private(set) var elements: [Element] = []
    let root: [String: String]

    init(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            XCTFail(
                "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")", file: file,
                line: line)
            throw XCTSkip("malformed SVG")
        }
        elements = delegate.elements
        root = delegate.elements.first { $0.name == "svg" }?.attributes ?? [:]
    }

    func all(_ name: String, in group: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (group == nil || $0.groups.contains(group!)) }
    }

    func texts(in group: String) -> [String] { all("text", in: group).map(\.text) }

    private final class Delegate: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var groups: [String] = []
        var open: [Int] = []

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements.append(Element(name: name, attributes: attributes, groups: groups))
            open.append(elements.count - 1)
            if name == "g" { groups.append(attributes["id"] ?? "") }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let i = open.last { elements[i].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
            if name == "g" { groups.removeLast() }
        }
    }
}
