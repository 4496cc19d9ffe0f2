/** Container names: validation as docker does it, and generated names for unnamed containers. */
import crypto from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!NAME_PATTERN.test(name) || name.length > 128) {
    throw new InvalidArgumentError(
      `invalid container name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters`,
    );
  }
  return name.replace(/^\//, '');
}

const ADJECTIVES = [
  'agile',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'cool',
  'eager',
  'fervent',
  'gentle',
  'happy',
  'jolly',
  'keen',
  'kind',
  'lucid',
  'merry',
  'nifty',
  'quirky',
  'relaxed',
  'serene',
  'sharp',
  'stoic',
  'swift',
  'vivid',
  'wizardly',
  'zealous',
  'upbeat',
  'tender',
  'modest',
  'loving',
  'hopeful',
  'focused',
  'festive',
  'dreamy',
];
const SURNAMES = [
  'albattani',
  'babbage',
  'bell',
  'curie',
  'darwin',
  'dijkstra',
  'einstein',
  'euler',
  'fermat',
  'franklin',
  'galileo',
  'goodall',
  'hamilton',
  'hopper',
  'hypatia',
  'kepler',
  'knuth',
  'lamarr',
  'lovelace',
  'meitner',
  'newton',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'tesla',
  'thompson',
  'torvalds',
  'turing',
  'wozniak',
  'yalow',
  'zhukovsky',
  'lumiere',
  'mcclintock',
];

export function generateName(): string {
  const adjective = ADJECTIVES[crypto.randomInt(ADJECTIVES.length)]!;
  const surname = SURNAMES[crypto.randomInt(SURNAMES.length)]!;
  return `${adjective}_${surname}`;
}

export function generateId(): string {
  return crypto.randomBytes(32).toString('hex');
}
