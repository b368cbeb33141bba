// TypeScript's decorator calls, written out for plain ESM (what `tsc` emits for `@Decorator()`).
import 'reflect-metadata';

export function decorateClass(target, decorators) {
  Reflect.decorate(decorators, target);
}

export function decorateMethod(target, name, decorators) {
  const { prototype } = target;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
  Object.defineProperty(prototype, name, Reflect.decorate(decorators, prototype, name, descriptor));
}
