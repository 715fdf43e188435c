const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `$.a`, or `$["a b"]` when the key is not an identifier, so the path is unambiguous. */
export function keyPath(parent: string, key: string): string {
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A user-chosen name as it should appear in a one-line message: quoted if it has control characters or quotes. */
export function displayName(name: string): string {
  return /[\u0000-\u001f\u007f"\\]/.test(name) || name === "" ? JSON.stringify(name) : name;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
