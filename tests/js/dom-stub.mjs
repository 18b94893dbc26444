// A minimal stand-in for the browser's `document`, enough for the widget's renderers
// (dom.js, markdown.js, scorecard.js, understood.js): elements with attributes,
// children, text, inline style and listeners. Written here instead of pulling jsdom in:
// the renderers only ever create nodes, set attributes and append. `toHTML` prints a
// node so that tests can compare what was drawn.

class TextNode {
  constructor(text) {
    this.nodeType = 3;
    this.textContent = String(text);
    this.parentNode = null;
  }
}

class Element {
  constructor(tagName, namespace) {
    this.nodeType = 1;
    this.tagName = tagName.toLowerCase();
    this.namespace = namespace || null;
    this.attributes = new Map();
    this.childNodes = [];
    this.parentNode = null;
    this.listeners = {};
    const style = {};
    style.setProperty = (name, value) => {
      style[name] = value;
    };
    this.style = style;
  }

  get className() {
    return this.getAttribute("class") || "";
  }

  set className(value) {
    this.setAttribute("class", value);
  }

  get children() {
    return this.childNodes.filter((node) => node.nodeType === 1);
  }

  get textContent() {
    return this.childNodes.map((node) => node.textContent).join("");
  }

  set textContent(value) {
    this.childNodes = [];
    if (value !== "") {
      this.appendChild(new TextNode(value));
    }
  }

  appendChild(node) {
    node.parentNode = this;
    this.childNodes.push(node);
    return node;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  hasAttribute(name) {
    return this.attributes.has(name);
  }

  removeAttribute(name) {
    this.attributes.delete(name);
  }

  addEventListener(type, listener) {
    if (!this.listeners[type]) {
      this.listeners[type] = [];
    }
    this.listeners[type].push(listener);
  }

  /** Call the listeners of `type`, as a click or a submit would. */
  dispatch(type) {
    for (const listener of this.listeners[type] || []) {
      listener({ type, target: this, preventDefault() {} });
    }
  }
}

/** A fresh stub document; install it with `installDocument()`. */
export function createDocument() {
  return {
    createElement: (tag) => new Element(tag),
    createElementNS: (namespace, tag) => new Element(tag, namespace),
    createTextNode: (text) => new TextNode(text)
  };
}

/** Make `document` and `location` global, as the widget's modules expect in a page. */
export function installDocument(pageHref = "https://shop.example.com/products") {
  globalThis.document = createDocument();
  globalThis.location = { href: pageHref };
}

/** Every element under `root` (itself included) for which `test(element)` holds. */
export function findAll(root, test) {
  const found = [];
  const visit = (node) => {
    if (node.nodeType !== 1) {
      return;
    }
    if (test(node)) {
      found.push(node);
    }
    node.childNodes.forEach(visit);
  };
  visit(root);
  return found;
}

/** The elements under `root` with the class `name`. */
export function byClass(root, name) {
  return findAll(root, (node) => node.className.split(" ").includes(name));
}

/** The elements under `root` with the tag `tag`. */
export function byTag(root, tag) {
  return findAll(root, (node) => node.tagName === tag);
}

const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The node as HTML, attributes in the order they were set; styles are left out. */
export function toHTML(node) {
  if (node.nodeType === 3) {
    return escapeHtml(node.textContent);
  }
  const attrs = [...node.attributes].map(([name, value]) => ` ${name}="${escapeHtml(value).replace(/"/g, "&quot;")}"`);
  const inner = node.childNodes.map(toHTML).join("");
  return node.tagName === "br" ? "<br>" : `<${node.tagName}${attrs.join("")}>${inner}</${node.tagName}>`;
}
