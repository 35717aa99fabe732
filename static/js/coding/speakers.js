// The speaker menus of a big project: the server lists the participants once
// (a <template>) and each menu only its current choice; fill every menu from
// the list, keeping what each had chosen.

export function fillSpeakerMenus(root = document) {
  for (const group of root.querySelectorAll("optgroup[data-fill]")) {
    const list = document.getElementById(group.dataset.fill);
    const select = group.closest("select");
    if (!list || !select) continue;
    const chosen = select.value;
    group.replaceChildren(list.content.cloneNode(true));
    select.value = chosen;
    group.removeAttribute("data-fill");
  }
}
