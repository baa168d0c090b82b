// feed_file_input: the id of the element a selector found.
(el) => el.id
