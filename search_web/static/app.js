/* Progressive enhancement for the result list: 上下文 / 复制 / 相似段落, and instant mode switching;
   复制 also in the document view and the similar-passages panel (any element with data-citation).
   Text from the index is always inserted with textContent; only Hit.highlighted (escaped by the
   library, <mark> tags only) goes through innerHTML. */
(function () {
  "use strict";

  var root = document.body.getAttribute("data-root") || "";
  var headingSeparator = document.body.getAttribute("data-heading-separator"); // indexer.document.HEADING_SEPARATOR

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var toastTimer = null;
  function toast(message) {
    var box = document.querySelector(".toast");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 2200);
  }

  function getJSON(url) {
    return fetch(root + url, { headers: { Accept: "application/json" } }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) throw new Error((data.error && data.error.message) || "请求失败");
        return data;
      });
    });
  }

  /* Clipboard API needs a secure context; an intranet server on plain http is not one. */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var area = el("textarea", "");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "-1000px";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function docUrl(docId, paragraphIndex) {
    return root + "/doc/" + encodeURIComponent(docId) + "?p=" + paragraphIndex + "#p-" + paragraphIndex;
  }

  function paragraphNodes(paragraphs) {
    return paragraphs.map(function (p) {
      return el("p", p.is_heading ? "ctx-h" : "", p.text);
    });
  }

  function toggleContext(hit, button) {
    var block = hit.querySelector(".passage-block");
    var open = block.querySelectorAll(".ctx");
    if (open.length) {
      open.forEach(function (n) { n.remove(); });
      block.classList.remove("expanded");
      button.textContent = "上下文";
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.disabled = true;
    getJSON("/api/context/" + hit.dataset.chunkId + "?before=2&after=2").then(function (ctx) {
      var before = el("div", "ctx ctx-before");
      paragraphNodes(ctx.before).forEach(function (n) { before.appendChild(n); });
      var after = el("div", "ctx ctx-after");
      paragraphNodes(ctx.after).forEach(function (n) { after.appendChild(n); });
      if (!ctx.before.length) before.appendChild(el("p", "", "（已是文档开头）"));
      if (!ctx.after.length) after.appendChild(el("p", "", "（已是文档结尾）"));
      block.insertBefore(before, block.firstChild);
      block.appendChild(after);
      block.classList.add("expanded");
      button.textContent = "收起上下文";
      button.setAttribute("aria-expanded", "true");
    }).catch(function (err) {
      toast("无法加载上下文：" + err.message);
    }).then(function () { button.disabled = false; });
  }

  function toggleSimilar(hit, button) {
    var panel = hit.querySelector(".similar-panel");
    if (!panel.hidden) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    if (panel.dataset.loaded) return;
    panel.textContent = "正在查找其他报告中的相似段落……";
    getJSON("/api/similar/" + hit.dataset.chunkId + "?limit=5").then(function (resp) {
      panel.textContent = "";
      panel.dataset.loaded = "1";
      if (!resp.hits.length) {
        panel.appendChild(el("p", "muted", "其他报告中没有内容相近的段落。"));
        return;
      }
      panel.appendChild(el("h4", "", "其他报告中的相似段落"));
      var list = el("ol");
      resp.hits.forEach(function (h) {
        var item = el("li");
        var meta = el("div", "s-meta");
        var link = el("a", "", h.place || h.title || h.path);
        link.href = docUrl(h.doc_id, h.paragraph_index);
        meta.appendChild(link);
        var rest = [h.year ? h.year + "年" : "", h.section_kind, (h.heading_path || []).join(headingSeparator)]
          .filter(Boolean).join(" · ");
        if (rest) meta.appendChild(document.createTextNode(" · " + rest));
        var text = el("p", "s-text");
        text.innerHTML = h.highlighted; // escaped by the library; <mark> only
        item.setAttribute("data-citation", h.citation); // built by the server (search_web/citation.py)
        var copy = el("button", "link-btn", "复制");
        copy.type = "button";
        copy.setAttribute("data-action", "copy");
        copy.title = "复制本段及出处";
        meta.appendChild(document.createTextNode(" "));
        meta.appendChild(copy);
        item.appendChild(meta);
        item.appendChild(text);
        list.appendChild(item);
      });
      panel.appendChild(list);
    }).catch(function (err) {
      panel.textContent = "无法查找相似段落：" + err.message;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "copy") {
      var holder = button.closest("[data-citation]"); // a result, a similar passage, a paragraph
      if (!holder) return;
      copyText(holder.getAttribute("data-citation")).then(
        function () { toast("已复制段落及出处"); },
        function () { toast("复制失败，请手动选择文字复制"); }
      );
      return;
    }
    var hit = button.closest(".hit");
    if (!hit) return;
    if (action === "context") {
      toggleContext(hit, button);
    } else if (action === "similar") {
      toggleSimilar(hit, button);
    }
  });

  /* Filters are folded on a phone (results first) and open beside the results on a wide screen; app.css
     shows them there even before this runs, this keeps the <details> state honest (and older browsers). */
  var wide = window.matchMedia("(min-width: 901px)");
  function unfoldFilters() {
    document.querySelectorAll("details.facets-fold").forEach(function (box) { if (wide.matches) box.open = true; });
  }
  unfoldFilters();
  wide.addEventListener("change", unfoldFilters);

  /* Switching mode or 按乡镇对比 re-runs the current search at once. */
  document.querySelectorAll(".searchbar").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var name = event.target.name;
      if ((name === "mode" || name === "group") && form.q.value.trim()) form.submit();
    });
  });
})();
