/**
 * Fakes by command class behind one `send` fake per mocked client. Registering `.on(Command)` per command makes
 * sinon deep-compare every call against each matcher, which costs seconds over a thousand property samples; a map
 * lookup by the command's class does not.
 */
export class RoutedFakes {
  private readonly routes = new Map<unknown, (input: never) => unknown>();

  /** Answers every `command` sent with `fake(input)` (a value, a promise, or a thrown error). */
  route<I>(command: new (input: I) => { readonly input: I }, fake: (input: I) => unknown): void {
    this.routes.set(command, fake as (input: never) => unknown);
  }

  /** The `send` fake to install: `mock.send.callsFake(fakes.dispatch)`. */
  readonly dispatch = async (command: { readonly constructor: unknown; readonly input: unknown }): Promise<unknown> => {
    const fake = this.routes.get(command.constructor);
    if (!fake) throw new Error(`no fake for ${String((command.constructor as { name?: string }).name)}`);
    return fake(command.input as never);
  };
}
