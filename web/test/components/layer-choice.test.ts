import { afterEach, describe, expect, it } from 'vitest';
import { layerGroups } from '../../src/layers/definitions.js';
import { storedLayerChoice, storeLayerChoice } from '../../src/layers/layer-choice.js';

describe('the layer choice remembered per browser', () => {
  afterEach(() => localStorage.clear());

  it('is each group\'s default until something is stored', () => {
    const choice = storedLayerChoice(layerGroups());
    expect(choice).toEqual(Object.fromEntries(layerGroups().map((group) => [group.id, group.visible])));
    expect(choice.noise).toBe(false);
    expect(choice.traffic).toBe(true);
  });

  it('comes back as stored', () => {
    storeLayerChoice({ ...storedLayerChoice(layerGroups()), noise: true, traffic: false });
    const choice = storedLayerChoice(layerGroups());
    expect(choice.noise).toBe(true);
    expect(choice.traffic).toBe(false);
    expect(choice.flood).toBe(true);
  });

  it('ignores what is not a known group\'s boolean, and storage that is not JSON', () => {
    localStorage.setItem('city.layers', JSON.stringify({ noise: 'yes', parking: true, nuclear: true }));
    const choice = storedLayerChoice(layerGroups());
    expect(choice.noise).toBe(false);
    expect(choice.parking).toBe(true);
    expect(choice).not.toHaveProperty('nuclear');
    localStorage.setItem('city.layers', '{not json');
    expect(storedLayerChoice(layerGroups())).toEqual(Object.fromEntries(layerGroups().map((group) => [group.id, group.visible])));
    localStorage.setItem('city.layers', '[true]');
    expect(storedLayerChoice(layerGroups()).noise).toBe(false);
  });
});
