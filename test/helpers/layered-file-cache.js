/**
 * The file cache Jest's runtime reads through (a Map of file name to source text), in two layers: the test file's
 * own entries, and, for files of installed packages (under node_modules), a map shared by every test file a worker
 * runs. Package files do not change while tests run (Jest's own module map treats them the same way); the project's
 * files stay per test file, so an edit between watch-mode runs is always seen. `clear()` (Jest's teardown and
 * `resetModules`) clears the test file's own entries only.
 *
 * Plain CommonJS: test/jest-runtime.js, which Jest loads with Node's `require` before any transform, uses it.
 */
const PACKAGE_FILE = /[\\/]node_modules[\\/]/;

class LayeredFileCache extends Map {
  /**
   * @param {Map<string, string>} own the test file's cache, as Jest made it
   * @param {Map<string, string>} shared package file texts, one map per worker
   */
  constructor(own, shared) {
    super();
    this.own = own;
    this.shared = shared;
  }

  /** @param {string} file */
  static isPackageFile(file) {
    return PACKAGE_FILE.test(file);
  }

  /** @param {string} file */
  get(file) {
    const text = this.own.get(file);
    if (text !== undefined || !LayeredFileCache.isPackageFile(file)) return text;
    return this.shared.get(file);
  }

  /** @param {string} file */
  has(file) {
    return this.own.has(file) || (LayeredFileCache.isPackageFile(file) && this.shared.has(file));
  }

  /** @param {string} file @param {string} text */
  set(file, text) {
    if (LayeredFileCache.isPackageFile(file)) this.shared.set(file, text);
    else this.own.set(file, text);
    return this;
  }

  /** @param {string} file */
  delete(file) {
    return this.own.delete(file);
  }

  clear() {
    this.own.clear();
  }

  get size() {
    return this.own.size;
  }
}

module.exports = { LayeredFileCache };
