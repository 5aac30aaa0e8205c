// The six problem families: each turns (steps, number ranges, phrasing) into a story, a question
// and the computation that answers it. docs/SYNTHETIC_WORLD.md gives the grammar in prose.
import type { SyntheticFamily } from './computation';
import type { Operand } from './computation';
import {
  draw,
  fill,
  given,
  listWords,
  phrase,
  PEOPLE,
  StepList,
  THINGS,
  type FamilyDraft,
  type FamilyRequest,
} from './grammar';

/** rates: a producer makes `rate` items per hour on 1-3 days; optionally some are sold. */
function rates(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  const [maker, items] = rng.pick([
    ['machine', 'bolts'],
    ['bakery', 'loaves'],
    ['printer', 'pages'],
    ['factory', 'toys'],
    ['farm', 'eggs'],
  ] as const);
  const days = rng.sample(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'], 3);
  const dayCount = Math.ceil(stepCount / 2);
  const sells = stepCount % 2 === 0;
  const rate = draw(rng, numbers.rate);
  const sentences = [
    phrase(
      request,
      {
        seen: [
          'A {maker} makes {rate} {items} per hour.',
          'Every hour a {maker} makes {rate} {items}.',
        ],
        unseen: ['A {maker} can produce {rate} {items} in one hour.'],
      },
      { maker, rate, items },
    ),
  ];
  const list = new StepList();
  let total: Operand | undefined;
  days.slice(0, dayCount).forEach((day, index) => {
    const hours = draw(rng, numbers.factor);
    sentences.push(
      phrase(
        request,
        {
          seen: ['It works for {hours} hours on {day}.', 'On {day} it works {hours} hours.'],
          unseen: ['It is switched on for {hours} hours on {day}.'],
        },
        { hours, day },
      ),
    );
    const made = list.add(
      day.toLowerCase(),
      '*',
      given(rate),
      given(hours),
      `On ${day} it makes {expr} ${items}.`,
      `How many ${items} does the ${maker} make on ${day}?`,
    );
    if (total === undefined) {
      total = made;
    } else {
      const soFar = days.slice(0, index + 1);
      total = list.add(
        'total',
        '+',
        total,
        made,
        `On ${listWords(soFar)} it makes {expr} ${items}.`,
        `How many ${items} does it make on ${listWords(soFar)}?`,
      );
    }
  });
  let question: string;
  if (sells) {
    const sold = rng.int(1, Math.max(1, Math.min(list.value(total!) - 1, numbers.count.max)));
    sentences.push(
      phrase(
        request,
        {
          seen: ['Then {sold} of the {items} are sold.'],
          unseen: ['Later, {sold} {items} get sold.'],
        },
        { sold, items },
      ),
    );
    list.add(
      'left',
      '-',
      total!,
      given(sold),
      `After selling ${sold}, {expr} ${items} are left.`,
      `How many ${items} are left after ${sold} are sold?`,
    );
    question = phrase(
      request,
      { seen: ['How many {items} are left?'], unseen: ['What number of {items} remain?'] },
      { items },
    );
  } else {
    question = phrase(
      request,
      {
        seen: [
          'How many {items} does the {maker} make in total?',
          'How many {items} does it make altogether?',
        ],
        unseen: ['What is the total number of {items} the {maker} makes?'],
      },
      { items, maker },
    );
  }
  return { sentences, question, computation: list.computation('rates') };
}

/** sharing: N things shared equally among g friends, then each friend gains or eats some. */
function sharing(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  const person = rng.pick(PEOPLE);
  const items = rng.pick(THINGS);
  const friends = draw(rng, numbers.factor);
  const each = draw(rng, numbers.factor);
  const total = friends * each;
  const sentences = [
    phrase(
      request,
      {
        seen: [
          '{person} shares {total} {items} equally among {friends} friends.',
          '{total} {items} are split equally between {friends} friends.',
        ],
        unseen: ['{friends} friends divide {total} {items} into equal parts.'],
      },
      { person, total, items, friends },
    ),
  ];
  const list = new StepList();
  let share = list.add(
    'each',
    '/',
    given(total),
    given(friends),
    `Each friend gets {expr} ${items}.`,
    `How many ${items} does each friend get?`,
  );
  const together = stepCount >= 2 && rng.chance(0.3);
  const changes = stepCount - 1 - (together ? 1 : 0);
  for (let index = 0; index < changes; index++) {
    const current = list.value(share);
    if (current > 2 && rng.chance(0.5)) {
      const eaten = rng.int(1, Math.min(current - 1, numbers.small.max));
      sentences.push(
        phrase(
          request,
          {
            seen: [
              'Then each friend eats {eaten} of them.',
              'Then each friend gives away {eaten} of them.',
            ],
            unseen: ['Each friend then uses up {eaten} of the {items}.'],
          },
          { eaten, items },
        ),
      );
      share = list.add(
        'each',
        '-',
        share,
        given(eaten),
        `After losing ${eaten}, each friend has {expr} ${items}.`,
        `How many ${items} does each friend have after losing ${eaten}?`,
      );
    } else {
      const extra = draw(rng, numbers.small);
      sentences.push(
        phrase(
          request,
          {
            seen: [
              'Then each friend gets {extra} more {items}.',
              'Then each friend finds {extra} more.',
            ],
            unseen: ['Each friend is then given {extra} extra {items}.'],
          },
          { extra, items },
        ),
      );
      share = list.add(
        'each',
        '+',
        share,
        given(extra),
        `After getting ${extra} more, each friend has {expr} ${items}.`,
        `How many ${items} does each friend have after getting ${extra} more?`,
      );
    }
  }
  let question: string;
  if (together) {
    const group = rng.int(2, Math.max(2, friends));
    question = phrase(
      request,
      {
        seen: ['How many {items} do {group} of the friends have together?'],
        unseen: ['What is the combined number of {items} of {group} friends?'],
      },
      { items, group },
    );
    list.add(
      'together',
      '*',
      share,
      given(group),
      `Together ${group} friends have {expr} ${items}.`,
      `How many ${items} do ${group} friends have together?`,
    );
  } else if (stepCount === 1) {
    question = phrase(
      request,
      {
        seen: ['How many {items} does each friend get?'],
        unseen: ['What is the share of each friend?'],
      },
      { items },
    );
  } else {
    question = phrase(
      request,
      {
        seen: [
          'How many {items} does each friend have now?',
          'How many {items} does each friend end up with?',
        ],
        unseen: ['What number of {items} is each friend left with?'],
      },
      { items },
    );
  }
  return { sentences, question, computation: list.computation('sharing') };
}

const GOODS = [
  ['pens', 'pen'],
  ['books', 'book'],
  ['cups', 'cup'],
  ['hats', 'hat'],
  ['toys', 'toy'],
  ['bags', 'bag'],
] as const;

/** shopping: buy 1-3 kinds of goods (some in quantity), maybe pay and get change. */
function shopping(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  // Every (kinds, multiplied, change) with multiplied + (kinds - 1) + change = steps.
  const plans: Array<{ kinds: number; multiplied: number; change: boolean }> = [];
  for (let kinds = 1; kinds <= 3; kinds++) {
    for (let multiplied = 0; multiplied <= kinds; multiplied++) {
      for (const change of [false, true]) {
        if (multiplied + kinds - 1 + (change ? 1 : 0) === stepCount)
          plans.push({ kinds, multiplied, change });
      }
    }
  }
  if (plans.length === 0) throw new Error(`shopping: no plan takes ${stepCount} steps`);
  const plan = rng.pick(plans);
  const buyer = rng.pick(PEOPLE);
  const goods = rng.sample(GOODS, plan.kinds);
  const multipliedKinds = new Set(rng.sample([0, 1, 2].slice(0, plan.kinds), plan.multiplied));
  const list = new StepList();
  const phrases: string[] = [];
  const names: string[] = [];
  let total: Operand | undefined;
  goods.forEach(([plural, singular], index) => {
    const price = draw(rng, numbers.rate);
    let cost: Operand;
    if (multipliedKinds.has(index)) {
      const quantity = draw(rng, numbers.factor);
      phrases.push(`${quantity} ${plural} at ${price} dollars each`);
      names.push(`the ${plural}`);
      cost = list.add(
        plural,
        '*',
        given(quantity),
        given(price),
        `The ${plural} cost {expr} dollars.`,
        `How much do the ${plural} cost?`,
      );
    } else {
      phrases.push(`a ${singular} for ${price} dollars`);
      names.push(`the ${singular}`);
      cost = given(price);
    }
    if (total === undefined) {
      total = cost;
    } else {
      const bought = listWords(names);
      total = list.add(
        'total',
        '+',
        total,
        cost,
        `${capitalize(bought)} cost {expr} dollars.`,
        `How much do ${bought} cost together?`,
      );
    }
  });
  const sentences = [
    phrase(
      request,
      { seen: ['{buyer} buys {goods}.'], unseen: ['At the shop {buyer} picks up {goods}.'] },
      { buyer, goods: listWords(phrases) },
    ),
  ];
  let question: string;
  if (plan.change) {
    const paid = list.value(total!) + draw(rng, numbers.small);
    sentences.push(
      phrase(
        request,
        {
          seen: ['{buyer} pays with {paid} dollars.'],
          unseen: ['{buyer} hands over {paid} dollars.'],
        },
        { buyer, paid },
      ),
    );
    list.add(
      'change',
      '-',
      given(paid),
      total!,
      'The change is {expr} dollars.',
      `How much change does ${buyer} get?`,
    );
    question = phrase(
      request,
      {
        seen: [
          'How much change does {buyer} get?',
          'How many dollars of change does {buyer} get back?',
        ],
        unseen: ['What is the change {buyer} receives, in dollars?'],
      },
      { buyer },
    );
  } else {
    question = phrase(
      request,
      {
        seen: ['How much does {buyer} spend?', 'How many dollars does {buyer} pay in total?'],
        unseen: ['What is the total cost for {buyer}, in dollars?'],
      },
      { buyer },
    );
  }
  return { sentences, question, computation: list.computation('shopping') };
}

/** comparison: a chain of people, each with more / fewer / times as many as the one before. */
function comparison(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  const items = rng.pick(THINGS);
  const together = stepCount >= 2 && rng.chance(0.3);
  const relations = stepCount - (together ? 1 : 0);
  const people = rng.sample(PEOPLE, relations + 1);
  const start = draw(rng, numbers.count);
  const sentences = [
    phrase(
      request,
      { seen: ['{person} has {start} {items}.'], unseen: ['{person} owns {start} {items}.'] },
      { person: people[0], start, items },
    ),
  ];
  const list = new StepList();
  let previous: Operand = given(start);
  let beforePrevious: Operand | undefined;
  for (let index = 1; index <= relations; index++) {
    const [earlier, person] = [people[index - 1], people[index]];
    const current = list.value(previous);
    const kind =
      current <= 30 && rng.chance(0.3)
        ? 'times'
        : current > numbers.small.min + 1 && rng.chance(0.5)
          ? 'fewer'
          : 'more';
    let next: Operand;
    const statement = `${person} has {expr} ${items}.`;
    const subQuestion = `How many ${items} does ${person} have?`;
    if (kind === 'times') {
      const factor = rng.int(2, Math.min(numbers.factor.max, 5));
      sentences.push(
        phrase(
          request,
          {
            seen: ['{person} has {factor} times as many {items} as {earlier}.'],
            unseen: ['{person} owns {factor} times the number of {items} {earlier} has.'],
          },
          { person, factor, items, earlier },
        ),
      );
      next = list.add(person.toLowerCase(), '*', previous, given(factor), statement, subQuestion);
    } else if (kind === 'fewer') {
      const difference = rng.int(numbers.small.min, Math.min(numbers.small.max, current - 1));
      sentences.push(
        phrase(
          request,
          {
            seen: ['{person} has {difference} fewer {items} than {earlier}.'],
            unseen: ['{person} owns {difference} {items} less than {earlier} does.'],
          },
          { person, difference, items, earlier },
        ),
      );
      next = list.add(
        person.toLowerCase(),
        '-',
        previous,
        given(difference),
        statement,
        subQuestion,
      );
    } else {
      const difference = draw(rng, numbers.small);
      sentences.push(
        phrase(
          request,
          {
            seen: ['{person} has {difference} more {items} than {earlier}.'],
            unseen: ['{person} owns {difference} {items} more than {earlier} does.'],
          },
          { person, difference, items, earlier },
        ),
      );
      next = list.add(
        person.toLowerCase(),
        '+',
        previous,
        given(difference),
        statement,
        subQuestion,
      );
    }
    beforePrevious = previous;
    previous = next;
  }
  const last = people[relations];
  let question: string;
  if (together) {
    const other = people[relations - 1];
    list.add(
      'together',
      '+',
      beforePrevious!,
      previous,
      `Together they have {expr} ${items}.`,
      `How many ${items} do ${other} and ${last} have together?`,
    );
    question = phrase(
      request,
      {
        seen: ['How many {items} do {other} and {last} have together?'],
        unseen: ['What is the combined number of {items} of {other} and {last}?'],
      },
      { items, other, last },
    );
  } else {
    question = phrase(
      request,
      {
        seen: ['How many {items} does {last} have?'],
        unseen: ['What is the number of {items} {last} has?'],
      },
      { items, last },
    );
  }
  return { sentences, question, computation: list.computation('comparison') };
}

const COLLECTIONS = [
  {
    place: 'farm',
    group: 'animals',
    kinds: ['cows', 'pigs', 'hens', 'goats', 'ducks', 'sheep', 'horses'],
  },
  {
    place: 'shop',
    group: 'fruits',
    kinds: ['apples', 'pears', 'plums', 'lemons', 'limes', 'peaches', 'mangoes'],
  },
  {
    place: 'garden',
    group: 'flowers',
    kinds: ['roses', 'tulips', 'lilies', 'daisies', 'irises', 'poppies', 'asters'],
  },
] as const;

/** totals: a place holds 2-7 kinds of things; how many in all (a running sum). */
function totals(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  const collection = rng.pick(COLLECTIONS);
  const kinds = rng.sample(collection.kinds, stepCount + 1);
  const counts = kinds.map(() => draw(rng, numbers.count));
  const { place, group } = collection;
  const sentences = [
    phrase(
      request,
      {
        seen: ['The {place} has {list}.', 'There are {list} at the {place}.'],
        unseen: ['At the {place} one can count {list}.'],
      },
      { place, list: listWords(kinds.map((kind, index) => `${counts[index]} ${kind}`)) },
    ),
  ];
  const list = new StepList();
  let total: Operand = given(counts[0]);
  for (let index = 1; index < kinds.length; index++) {
    const first = index === 1;
    total = list.add(
      'total',
      '+',
      total,
      given(counts[index]),
      first
        ? `There are {expr} ${kinds[0]} and ${kinds[1]}.`
        : `With the ${kinds[index]} there are {expr} ${group}.`,
      first
        ? `How many ${kinds[0]} and ${kinds[1]} are there?`
        : `How many ${group} are there with the ${kinds[index]}?`,
    );
  }
  const question = phrase(
    request,
    {
      seen: ['How many {group} are there in total?', 'How many {group} does the {place} have?'],
      unseen: ['What is the total number of {group} at the {place}?'],
    },
    { group, place },
  );
  return { sentences, question, computation: list.computation('totals') };
}

/** unknown-start: someone had some things, gained and lost some, and now has R: how many at first? */
function unknownStart(request: FamilyRequest): FamilyDraft {
  const { rng, steps: stepCount, numbers } = request;
  const person = rng.pick(PEOPLE);
  const other = rng.pick(PEOPLE.filter((name) => name !== person));
  const items = rng.pick(THINGS);
  const start = draw(rng, numbers.count);
  const sentences = [
    phrase(
      request,
      {
        seen: ['{person} had some {items}.', '{person} had a few {items}.'],
        unseen: ['At first {person} owned an unknown number of {items}.'],
      },
      { person, items },
    ),
  ];
  const events: Array<{ operator: '+' | '-'; value: number; undo: string }> = [];
  let current = start;
  for (let index = 0; index < stepCount; index++) {
    const slots = { person, other, items, amount: 0 };
    if (current > numbers.small.min + 1 && rng.chance(0.5)) {
      slots.amount = rng.int(numbers.small.min, Math.min(numbers.small.max, current - 1));
      const gave = rng.chance(0.5);
      sentences.push(
        phrase(
          request,
          {
            seen: gave
              ? ['Then {person} gave away {amount}.']
              : ['Then {person} lost {amount} of them.'],
            unseen: ['Later {person} handed {amount} {items} to {other}.'],
          },
          slots,
        ),
      );
      events.push({
        operator: '-',
        value: slots.amount,
        undo: `${gave ? 'giving away' : 'losing'} ${slots.amount}`,
      });
      current -= slots.amount;
    } else {
      slots.amount = draw(rng, numbers.small);
      const found = rng.chance(0.5);
      sentences.push(
        phrase(
          request,
          {
            seen: found
              ? ['Then {person} found {amount} more.']
              : ['Then {person} got {amount} more from {other}.'],
            unseen: ['Later {person} was given {amount} extra {items}.'],
          },
          slots,
        ),
      );
      events.push({
        operator: '+',
        value: slots.amount,
        undo: `${found ? 'finding' : 'getting'} ${slots.amount} more`,
      });
      current += slots.amount;
    }
  }
  sentences.push(fill('Now {person} has {current} {items}.', { person, current, items }));
  const question = phrase(
    request,
    {
      seen: [
        'How many {items} did {person} have at first?',
        'How many {items} did {person} start with?',
      ],
      unseen: ['What was the number of {items} {person} had in the beginning?'],
    },
    { items, person },
  );
  // Solving backwards: undo the last event first.
  const list = new StepList();
  let value: Operand = given(current);
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index];
    value = list.add(
      index === 0 ? 'start' : 'before',
      event.operator === '+' ? '-' : '+',
      value,
      given(event.value),
      `Before ${event.undo}, ${person} had {expr} ${items}.`,
      `How many ${items} did ${person} have before ${event.undo}?`,
    );
  }
  const computation = list.computation('unknown-start');
  computation.equation = {
    operations: events.map(({ operator, value: amount }) => ({ operator, value: amount })),
    result: current,
  };
  return { sentences, question, computation };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The generator of each family. */
export const FAMILY_GENERATORS: Record<SyntheticFamily, (request: FamilyRequest) => FamilyDraft> = {
  rates,
  sharing,
  shopping,
  comparison,
  totals,
  'unknown-start': unknownStart,
};
