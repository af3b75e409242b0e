// The course's additions to every page of the books that scripts/book builds:
//
// 1. A link to the same page in the other language, in the menu bar, that
//    keeps the section: the two pages have the same headings in the same
//    order (`cargo xtask check` makes sure of it), so the n-th heading of one
//    is the n-th of the other. lang-map.js lists the ids of both.
// 2. For Chinese search (course-search.js makes the index find Chinese
//    words): a search also when text arrives without a key press, and
//    teasers that show the words found.
// 3. The last language read is remembered, for the start page.
'use strict';

(function () {
    const lang = document.documentElement.lang === 'zh' ? 'zh' : 'en';
    const other = lang === 'zh' ? 'en' : 'zh';
    try {
        localStorage.setItem('course-lang', lang);
    } catch (e) {
        // Storage may be off (a private window): nothing to remember then.
    }

    // --- 1. The language switch -------------------------------------------

    /** The page's file name, like `05-stream-framing.html`. */
    function pageName() {
        const last = decodeURIComponent(location.pathname.split('/').pop());
        return last === '' ? 'index.html' : last;
    }

    /** The headings of the page, in order: the ones lang-map.js counted. */
    function headings() {
        return Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6'))
            .filter(h => h.id);
    }

    /** The heading of the section being read: the one in the address if it
     * is on screen, else the last one above the top of the window. */
    function currentHeading() {
        const all = headings();
        const named = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
        if (named && all.includes(named)) {
            const top = named.getBoundingClientRect().top;
            if (top >= 0 && top < window.innerHeight) {
                return named;
            }
        }
        if (window.scrollY < 10) {
            return null;
        }
        const bar = document.getElementById('mdbook-menu-bar');
        const line = (bar ? bar.getBoundingClientRect().bottom : 0) + 10;
        let current = null;
        for (const h of all) {
            if (h.getBoundingClientRect().top <= line) {
                current = h;
            }
        }
        return current;
    }

    /** The address of this page (and section) in the other language. */
    function otherURL() {
        const map = window.courseHeadings || {};
        const name = pageName();
        const mine = (map[lang] || {})[name];
        const theirs = (map[other] || {})[name];
        const base = path_to_root + '../' + other + '/';
        if (!theirs) {
            // The print view has its twin; a page missing there goes to the start.
            return base + (name === 'print.html' ? name : 'index.html');
        }
        const h = currentHeading();
        const n = h && mine ? mine.indexOf(h.id) : -1;
        return base + name + (n > 0 && theirs[n] ? '#' + theirs[n] : '');
    }

    const bar = document.querySelector('#mdbook-menu-bar .right-buttons');
    if (bar) {
        const a = document.createElement('a');
        a.id = 'course-lang-switch';
        a.className = 'course-lang-switch';
        a.lang = other;
        a.hreflang = other;
        a.textContent = other === 'zh' ? '中文' : 'English';
        a.title = other === 'zh' ? '阅读本页的中文版' : 'Read this page in English';
        a.href = otherURL();
        // The section changes as the reader scrolls: work the address out again
        // just before it is followed (a click, a middle click, a keyboard Enter).
        const refresh = () => {
            a.href = otherURL();
        };
        for (const ev of ['mouseenter', 'focus', 'mousedown', 'touchstart']) {
            a.addEventListener(ev, refresh, {passive: true});
        }
        a.addEventListener('click', () => {
            refresh();
            try {
                localStorage.setItem('course-lang', other);
            } catch (e) {
                // As above.
            }
        });
        bar.insertBefore(a, bar.firstChild);
    }

    // --- 2. Chinese search: the search box (course-search.js does the index)

    // mdBook searches on keyup. Text that arrives without a key (pasted with
    // the mouse, chosen from an input method's list) searches too.
    const searchbar = document.getElementById('mdbook-searchbar');
    const results = document.getElementById('mdbook-searchresults');
    if (!searchbar || !results) {
        return;
    }
    searchbar.addEventListener('input', e => {
        if (!e.isComposing) {
            searchbar.dispatchEvent(new KeyboardEvent('keyup'));
        }
    });

    // mdBook's teaser is the run of words with the most matches; Chinese has
    // no spaces between words, so for a Chinese query it is the start of the
    // section. Show the text around the first match instead.
    const HAN_RUN = /\p{Script=Han}+/gu;
    const escapeHTML = s => s.replace(/[&<>"']/g, c => '&#' + c.charCodeAt(0) + ';');
    let refs = null;
    function hanTeasers() {
        const words = searchbar.value.match(HAN_RUN);
        const s = window.search;
        if (!words || !s || !s.doc_urls || !s.index) {
            return;
        }
        if (!refs) {
            refs = new Map(s.doc_urls.map((u, i) => [u, String(i)]));
        }
        const docs = s.index.documentStore.docs;
        for (const li of results.children) {
            const a = li.querySelector('a');
            const teaser = li.querySelector('.teaser');
            if (!a || !teaser || teaser.dataset.han) {
                continue;
            }
            // The link is path_to_root + page + ?highlight=... + #anchor.
            const href = a.getAttribute('href').slice(path_to_root.length);
            const [page, anchor] = href.split('#');
            const ref = refs.get(page.split('?')[0] + (anchor ? '#' + anchor : ''));
            const body = ref !== undefined && docs[ref] ? docs[ref].body : '';
            const at = Math.min(...words.map(w => {
                const i = body.indexOf(w);
                return i < 0 ? Infinity : i;
            }));
            if (at === Infinity) {
                continue;
            }
            const start = Math.max(0, at - 30);
            const end = Math.min(body.length, at + 90);
            let html = escapeHTML(body.slice(start, end));
            for (const w of words) {
                html = html.split(escapeHTML(w)).join('<em>' + escapeHTML(w) + '</em>');
            }
            teaser.innerHTML = (start > 0 ? '…' : '') + html + (end < body.length ? '…' : '');
            teaser.dataset.han = '1';
        }
    }
    new MutationObserver(hanTeasers).observe(results, {childList: true});
    hanTeasers();
})();
