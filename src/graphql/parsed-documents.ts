import { LRUCache } from 'lru-cache';
import { parse, type DocumentNode, type ParseOptions } from 'graphql';

/** Options of {@link ParsedDocuments}. */
export interface ParsedDocumentsOptions {
  /** Distinct documents kept. */
  readonly max: number;
  /** The texts of the documents kept, in characters all together (their ASTs take some tens of times that). */
  readonly maxTotalLength: number;
  /** Longest document text kept, in characters (longer ones are parsed every time). */
  readonly maxLength: number;
  readonly parseOptions?: ParseOptions;
}

/**
 * Parses GraphQL documents once per distinct text.
 *
 * A dashboard opens the same subscription on every socket: 1 000 subscribers
 * held 1 000 copies of one document's AST (its tokens and locations were a
 * tenth of the live heap in the fleet bench) and parsed it 1 000 times. Apollo
 * Server keeps such a cache for HTTP; graphql-ws does not, so WebSocket
 * operations come through here. The documents are shared and must not be
 * mutated (graphql-js never does); sharing also lets per-document memos
 * (shared execution's document shapes) hit across sockets. Bounded by count,
 * by the texts' total length and by each text's length (whatever a client
 * sends, the cache stays small), least recently used first out; a syntax
 * error is thrown and not kept.
 */
export class ParsedDocuments {
  private readonly cache: LRUCache<string, DocumentNode>;

  constructor(private readonly options: ParsedDocumentsOptions) {
    this.cache = new LRUCache({ max: options.max, maxSize: options.maxTotalLength, sizeCalculation: (_document, text) => text.length });
  }

  parse(text: string): DocumentNode {
    if (text.length > this.options.maxLength) return parse(text, this.options.parseOptions);
    let document = this.cache.get(text);
    if (!document) {
      document = parse(text, this.options.parseOptions);
      this.cache.set(text, document);
    }
    return document;
  }
}
