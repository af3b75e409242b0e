// Search that finds Chinese words in the middle of a sentence, for the books
// scripts/book builds. Loaded from <head> (head.hbs), before mdBook's scripts.
//
// mdBook's index splits text at spaces only, so a Chinese sentence is one
// long "word" (dropped when longer than 80 bytes), and its query pipeline
// trims every non-ASCII character away. We add every Han character and every
// pair of neighbouring Han characters to the index as ASCII tokens (`cjk` +
// code points), and split queries the same way: 三次握手 is looked up as
// 三次 + 次握 + 握手, all required in one section (use-boolean-and).
//
// When: mdBook's searchindex.js assigns the whole index to window.search,
// then mdBook loads it and may search at once (a page opened with
// ?search=...). So we watch that assignment, which always comes after
// elasticlunr is loaded and before the first search: nothing can race it.
'use strict';

(function () {
    const HAN_RUN = /\p{Script=Han}+/gu;
    const HAN = /\p{Script=Han}/u;
    const code = ch => String(ch.codePointAt(0)).padStart(6, '0');

    /** The tokens of one run of Han characters: each character (when asked,
     * or when it stands alone), and each pair of neighbours. Digits and `x`
     * only, so the English pipeline (trimmer, stop words, stemmer) leaves
     * them as they are. */
    function hanTokens(run, withSingles) {
        const chars = Array.from(run);
        const out = [];
        if (withSingles || chars.length === 1) {
            for (const c of chars) {
                out.push('cjk' + code(c));
            }
        }
        for (let i = 0; i + 1 < chars.length; i++) {
            out.push('cjk' + code(chars[i]) + 'x' + code(chars[i + 1]));
        }
        return out;
    }

    /** Splits a query token into its Han runs (as pairs) and the rest. */
    function splitToken(token, out) {
        let last = 0;
        for (const m of token.matchAll(HAN_RUN)) {
            if (m.index > last) {
                out.push(token.slice(last, m.index));
            }
            out.push(...hanTokens(m[0], false));
            last = m.index + m[0].length;
        }
        if (last < token.length) {
            out.push(token.slice(last));
        }
    }

    /** Queries: mdBook's searcher calls elasticlunr.tokenizer on what was
     * typed; ours splits the Han runs of its tokens. */
    function patchTokenizer(elasticlunr) {
        const tokenizer = elasticlunr.tokenizer;
        if (tokenizer.courseHan) {
            return;
        }
        elasticlunr.tokenizer = Object.assign(function (text) {
            const out = [];
            for (const t of tokenizer.apply(this, arguments)) {
                if (HAN.test(t)) {
                    splitToken(t, out);
                } else {
                    out.push(t);
                }
            }
            return out;
        }, tokenizer, {courseHan: true});
    }

    /** Adds the Han tokens of every stored section to the serialised index
     * `data` (the `index` of searchindex.js), in place: the same trie of
     * characters elasticlunr builds, the same term frequency (the square
     * root of the count). */
    function addHan(data) {
        if (!data || data.courseHan || !data.documentStore) {
            return;
        }
        data.courseHan = true;
        const docs = data.documentStore.docs;
        const info = data.documentStore.docInfo;
        for (const ref of Object.keys(docs)) {
            for (const field of data.fields) {
                const text = docs[ref] && docs[ref][field];
                const root = data.index[field] && data.index[field].root;
                if (typeof text !== 'string' || !root || !HAN.test(text)) {
                    continue;
                }
                const counts = new Map();
                for (const m of text.matchAll(HAN_RUN)) {
                    for (const t of hanTokens(m[0], true)) {
                        counts.set(t, (counts.get(t) || 0) + 1);
                    }
                }
                for (const [token, count] of counts) {
                    let node = root;
                    for (const ch of token) {
                        node = node[ch] || (node[ch] = {docs: {}, df: 0});
                    }
                    if (!(ref in node.docs)) {
                        node.df += 1;
                    }
                    node.docs[ref] = {tf: Math.sqrt(count)};
                }
                if (info[ref]) {
                    info[ref][field] = (info[ref][field] || 0) + counts.size;
                }
            }
        }
    }

    let search = window.search;
    Object.defineProperty(window, 'search', {
        configurable: true,
        enumerable: true,
        get() {
            return search;
        },
        set(value) {
            search = value;
            if (value && value.index && window.elasticlunr) {
                patchTokenizer(window.elasticlunr);
                addHan(value.index);
            }
        },
    });
})();
